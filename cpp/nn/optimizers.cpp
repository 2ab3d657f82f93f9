#include "nn/optimizers.h"

#include <cmath>

#include "core/error.h"
#include "core/parallel.h"
#include "ops/device_ops.h"
#include "ops/dispatch.h"
#ifdef KERASETTE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
// The update of a variable on its own device: the CUDA kernel or the CPU table's, same arguments.
#define KS_UPDATE(p, fn, ...)                                         \
  do {                                                                \
    if ((p).value.device() == Device::CUDA)                           \
      cuda::fn(__VA_ARGS__);                                          \
    else                                                              \
      cpu_kernels().fn(__VA_ARGS__);                                  \
  } while (0)
#else
#define KS_UPDATE(p, fn, ...) cpu_kernels().fn(__VA_ARGS__)
#endif

namespace kerasette {

constexpr int64_t kUpdateChunk = 1 << 15;

double LearningRateSchedule::at(int64_t step_i) const {
  const double step = static_cast<double>(step_i);
  if (kind == "constant") return initial;
  if (kind == "exponential") {
    double p = step / decay_steps;
    if (staircase) p = std::floor(p);
    return initial * std::pow(decay_rate, p);
  }
  if (kind == "inverse_time") {
    double p = step / decay_steps;
    if (staircase) p = std::floor(p);
    return initial / (1.0 + decay_rate * p);
  }
  if (kind == "polynomial") {
    // Keras: past decay_steps the rate stays at the end value, or with `cycle` the period
    // stretches to the next multiple of decay_steps (one period at step 0).
    double steps = decay_steps, s = std::fmin(step, decay_steps);
    if (cycle) {
      steps = decay_steps * (step == 0 ? 1.0 : std::ceil(step / decay_steps));
      s = step;
    }
    return (initial - end_learning_rate) * std::pow(1.0 - s / steps, power) + end_learning_rate;
  }
  if (kind == "piecewise") {
    for (size_t i = 0; i < boundaries.size(); ++i)
      if (step <= boundaries[i]) return values[i];
    return values.back();
  }
  if (kind == "cosine") {
    double start = initial;
    if (warmup_target >= 0 && warmup_steps > 0) {
      if (step < warmup_steps) return initial + (warmup_target - initial) * step / warmup_steps;
      start = warmup_target;
    }
    const double s = std::fmin(std::fmax(step - warmup_steps, 0.0), decay_steps);
    const double cosine = 0.5 * (1.0 + std::cos(M_PI * s / decay_steps));
    return start * ((1.0 - alpha) * cosine + alpha);
  }
  fail("Unknown learning-rate schedule '", kind, "'");
}

Optimizer::Optimizer(const Attrs& a) {
  schedule.kind = a.get_str("schedule", "constant");
  schedule.initial = a.get_float("learning_rate", 0.001);
  schedule.decay_steps = a.get_float("decay_steps", 1.0);
  schedule.decay_rate = a.get_float("decay_rate", 1.0);
  schedule.alpha = a.get_float("alpha", 0.0);
  schedule.staircase = a.get_bool("staircase", false);
  schedule.warmup_target = a.get_float("warmup_target", -1.0);
  schedule.warmup_steps = a.get_float("warmup_steps", 0.0);
  schedule.end_learning_rate = a.get_float("end_learning_rate", 0.0001);
  schedule.power = a.get_float("power", 1.0);
  schedule.cycle = a.get_bool("cycle", false);
  if (a.has("boundaries")) schedule.boundaries = a.get_floats("boundaries");
  if (a.has("values")) schedule.values = a.get_floats("values");
  weight_decay = a.get_float("weight_decay", 0.0);
  clipnorm = a.get_float("clipnorm", 0.0);
  clipvalue = a.get_float("clipvalue", 0.0);
  global_clipnorm = a.get_float("global_clipnorm", 0.0);
}

void Optimizer::build(const std::vector<Param*>& vars) {
  const size_t n_slots = slot_names().size();
  slots_.assign(vars.size(), {});
  for (size_t i = 0; i < vars.size(); ++i)
    for (size_t s = 0; s < n_slots; ++s)
      slots_[i].push_back(
          Tensor::full(vars[i]->value.shape(), initial_slot_value(s), vars[i]->value.device()));
  clipped_.assign(vars.size(), Tensor());
  built_ = true;
}

void Optimizer::place(Device device) {
  for (auto& var_slots : slots_)
    for (Tensor& t : var_slots)
      if (t.defined() && t.device() != device) t = t.to(device);
  for (Tensor& t : clipped_) t = Tensor();
}

void Optimizer::apply(const std::vector<Param*>& vars) {
  if (!built_ || slots_.size() != vars.size()) build(vars);
  const float lr = current_learning_rate();
  // Gradient clipping, in Keras's order: clipnorm per variable, then global norm, then value.
  const bool clipping = clipnorm > 0 || clipvalue > 0 || global_clipnorm > 0;
  std::vector<const float*>& grads = grads_;
  grads.resize(vars.size());
  for (size_t i = 0; i < vars.size(); ++i) grads[i] = vars[i]->grad.data();
  if (clipping) {
    double global_sq = 0.0;
    for (size_t i = 0; i < vars.size(); ++i) {
      Tensor& c = clipped_[i];
      const Device dev = vars[i]->grad.device();
      c.resize(vars[i]->grad.shape(), dev);
      c.copy_from(vars[i]->grad);
      if (clipnorm > 0) {
        const double norm = std::sqrt(sum_squares_on(dev, c.data(), c.numel()));
        if (norm > clipnorm) scale_on(dev, c.data(), c.numel(), static_cast<float>(clipnorm / norm));
      }
      global_sq += sum_squares_on(dev, c.data(), c.numel());
      grads[i] = c.data();
    }
    const double global_norm = std::sqrt(global_sq);
    for (size_t i = 0; i < vars.size(); ++i) {
      Tensor& c = clipped_[i];
      if (global_clipnorm > 0 && global_norm > global_clipnorm)
        scale_on(c.device(), c.data(), c.numel(), static_cast<float>(global_clipnorm / global_norm));
      if (clipvalue > 0) {
        const float v = static_cast<float>(clipvalue);
        clip_on(c.device(), c.data(), c.numel(), -v, v);
      }
    }
  }
  begin_step(lr);
  for (size_t i = 0; i < vars.size(); ++i) {
    Param& p = *vars[i];
    const float decay = 1.0f - static_cast<float>(weight_decay) * lr;
    if (p.value.device() == Device::CUDA) {  // one fused kernel over the whole variable
      if (weight_decay > 0) scale_on(Device::CUDA, p.value.data(), p.value.numel(), decay);
      update(p, grads[i], slots_[i], lr, 0, p.value.numel());
      continue;
    }
    // Updates are elementwise: fixed chunks shared among threads change no result.
    parallel_for(p.value.numel(), kUpdateChunk, [&](int64_t b, int64_t e) {
      if (weight_decay > 0) {  // decoupled: w -= w * wd * lr, before the update (Keras 3)
        float* w = p.value.data();
        for (int64_t j = b; j < e; ++j) w[j] *= decay;
      }
      update(p, grads[i], slots_[i], lr, b, e);
    });
  }
  ++iterations;
}

namespace {

class SGD : public Optimizer {
 public:
  explicit SGD(const Attrs& a)
      : Optimizer(a),
        momentum_(static_cast<float>(a.get_float("momentum", 0.0))),
        nesterov_(a.get_bool("nesterov", false)) {}
  std::vector<std::string> slot_names() const override {
    return momentum_ != 0 ? std::vector<std::string>{"momentum"} : std::vector<std::string>{};
  }
  void update(Param& p, const float* g, std::vector<Tensor>& s, float lr, int64_t b,
              int64_t e) override {
    KS_UPDATE(p, sgd_update, p.value.data() + b, g + b, s.empty() ? nullptr : s[0].data() + b,
                             e - b, lr, momentum_, nesterov_);
  }

 private:
  float momentum_;
  bool nesterov_;
};

class Adam : public Optimizer {
 public:
  explicit Adam(const Attrs& a)
      : Optimizer(a),
        b1_(a.get_float("beta_1", 0.9)),
        b2_(a.get_float("beta_2", 0.999)),
        eps_(static_cast<float>(a.get_float("epsilon", 1e-7))),
        amsgrad_(a.get_bool("amsgrad", false)) {}
  std::vector<std::string> slot_names() const override {
    if (amsgrad_) return {"momentum", "velocity", "velocity_hat"};
    return {"momentum", "velocity"};
  }
  void begin_step(float lr) override {
    const double t = static_cast<double>(iterations + 1);
    alpha_ = static_cast<float>(lr * std::sqrt(1.0 - std::pow(b2_, t)) / (1.0 - std::pow(b1_, t)));
  }
  void update(Param& p, const float* g, std::vector<Tensor>& s, float, int64_t b,
              int64_t e) override {
    KS_UPDATE(p, adam_update, p.value.data() + b, g + b, s[0].data() + b, s[1].data() + b,
                              amsgrad_ ? s[2].data() + b : nullptr, e - b, alpha_,
                              static_cast<float>(b1_), static_cast<float>(b2_), eps_);
  }

 private:
  double b1_, b2_;
  float eps_;
  bool amsgrad_;
  float alpha_ = 0;
};

class RMSprop : public Optimizer {
 public:
  explicit RMSprop(const Attrs& a)
      : Optimizer(a),
        rho_(static_cast<float>(a.get_float("rho", 0.9))),
        momentum_(static_cast<float>(a.get_float("momentum", 0.0))),
        eps_(static_cast<float>(a.get_float("epsilon", 1e-7))),
        centered_(a.get_bool("centered", false)) {}
  std::vector<std::string> slot_names() const override {
    std::vector<std::string> names{"velocity"};
    if (momentum_ > 0) names.push_back("momentum");
    if (centered_) names.push_back("average_gradient");
    return names;
  }
  void update(Param& p, const float* g, std::vector<Tensor>& s, float lr, int64_t b,
              int64_t e) override {
    float* mom = momentum_ > 0 ? s[1].data() + b : nullptr;
    float* mg = centered_ ? s[momentum_ > 0 ? 2 : 1].data() + b : nullptr;
    KS_UPDATE(p, rmsprop_update, p.value.data() + b, g + b, s[0].data() + b, mg, mom, e - b, lr,
                                 rho_, momentum_, eps_);
  }

 private:
  float rho_, momentum_, eps_;
  bool centered_;
};

class Adagrad : public Optimizer {
 public:
  explicit Adagrad(const Attrs& a)
      : Optimizer(a),
        initial_(static_cast<float>(a.get_float("initial_accumulator_value", 0.1))),
        eps_(static_cast<float>(a.get_float("epsilon", 1e-7))) {}
  std::vector<std::string> slot_names() const override { return {"accumulator"}; }
  float initial_slot_value(size_t) const override { return initial_; }
  void update(Param& p, const float* g, std::vector<Tensor>& s, float lr, int64_t b,
              int64_t e) override {
    KS_UPDATE(p, adagrad_update, p.value.data() + b, g + b, s[0].data() + b, e - b, lr, eps_);
  }

 private:
  float initial_, eps_;
};

class Adadelta : public Optimizer {
 public:
  explicit Adadelta(const Attrs& a)
      : Optimizer(a),
        rho_(static_cast<float>(a.get_float("rho", 0.95))),
        eps_(static_cast<float>(a.get_float("epsilon", 1e-7))) {}
  std::vector<std::string> slot_names() const override {
    return {"accumulated_grad", "accumulated_delta_var"};
  }
  void update(Param& p, const float* g, std::vector<Tensor>& s, float lr, int64_t b,
              int64_t e) override {
    KS_UPDATE(p, adadelta_update, p.value.data() + b, g + b, s[0].data() + b, s[1].data() + b,
                                  e - b, lr, rho_, eps_);
  }

 private:
  float rho_, eps_;
};

class Nadam : public Optimizer {
 public:
  explicit Nadam(const Attrs& a)
      : Optimizer(a),
        b1_(a.get_float("beta_1", 0.9)),
        b2_(a.get_float("beta_2", 0.999)),
        eps_(static_cast<float>(a.get_float("epsilon", 1e-7))) {}
  std::vector<std::string> slot_names() const override { return {"momentum", "velocity"}; }
  std::vector<double> extra_state() const override { return {u_product_}; }
  void set_extra_state(const std::vector<double>& s) override {
    if (!s.empty()) u_product_ = s[0];
  }
  // u_product is shared by all variables and advanced once per step, before the updates.
  void begin_step(float) override {
    const double t = static_cast<double>(iterations + 1);
    const double u_t = b1_ * (1.0 - 0.5 * std::pow(0.96, t));
    const double u_t1 = b1_ * (1.0 - 0.5 * std::pow(0.96, t + 1));
    u_product_ *= u_t;
    const double u_product_t1 = u_product_ * u_t1;
    c_m_ = static_cast<float>(u_t1 / (1.0 - u_product_t1));
    c_g_ = static_cast<float>((1.0 - u_t) / (1.0 - u_product_));
    c_v_ = static_cast<float>(1.0 / (1.0 - std::pow(b2_, t)));
  }
  void update(Param& p, const float* g, std::vector<Tensor>& s, float lr, int64_t b,
              int64_t e) override {
    KS_UPDATE(p, nadam_update, p.value.data() + b, g + b, s[0].data() + b, s[1].data() + b,
                               e - b, lr, static_cast<float>(b1_), static_cast<float>(b2_), c_m_,
                               c_g_, c_v_, eps_);
  }

 private:
  double b1_, b2_;
  float eps_;
  double u_product_ = 1.0;
  float c_m_ = 0, c_g_ = 0, c_v_ = 0;
};

class Adamax : public Optimizer {
 public:
  explicit Adamax(const Attrs& a)
      : Optimizer(a),
        b1_(static_cast<float>(a.get_float("beta_1", 0.9))),
        b2_(static_cast<float>(a.get_float("beta_2", 0.999))),
        eps_(static_cast<float>(a.get_float("epsilon", 1e-7))) {}
  std::vector<std::string> slot_names() const override { return {"momentum", "norm"}; }
  // Keras raises the float32 beta_1 to the float32 step count.
  void begin_step(float) override {
    c1_ = 1.0f - std::pow(b1_, static_cast<float>(iterations + 1));
  }
  void update(Param& p, const float* g, std::vector<Tensor>& s, float lr, int64_t b,
              int64_t e) override {
    KS_UPDATE(p, adamax_update, p.value.data() + b, g + b, s[0].data() + b, s[1].data() + b,
                                e - b, lr, b1_, b2_, c1_, eps_);
  }

 private:
  float b1_, b2_, eps_;
  float c1_ = 0;
};

class Lion : public Optimizer {
 public:
  explicit Lion(const Attrs& a)
      : Optimizer(a),
        b1_(static_cast<float>(a.get_float("beta_1", 0.9))),
        b2_(static_cast<float>(a.get_float("beta_2", 0.99))) {}
  std::vector<std::string> slot_names() const override { return {"momentum"}; }
  void update(Param& p, const float* g, std::vector<Tensor>& s, float lr, int64_t b,
              int64_t e) override {
    KS_UPDATE(p, lion_update, p.value.data() + b, g + b, s[0].data() + b, e - b, lr, b1_, b2_);
  }

 private:
  float b1_, b2_;
};

class Ftrl : public Optimizer {
 public:
  explicit Ftrl(const Attrs& a)
      : Optimizer(a),
        lr_power_(static_cast<float>(a.get_float("learning_rate_power", -0.5))),
        initial_(static_cast<float>(a.get_float("initial_accumulator_value", 0.1))),
        l1_(static_cast<float>(a.get_float("l1_regularization_strength", 0.0))),
        l2_(static_cast<float>(a.get_float("l2_regularization_strength", 0.0))),
        shrink2_(
            static_cast<float>(2.0 * a.get_float("l2_shrinkage_regularization_strength", 0.0))),
        beta_(static_cast<float>(a.get_float("beta", 0.0))) {}
  std::vector<std::string> slot_names() const override { return {"accumulator", "linear"}; }
  float initial_slot_value(size_t slot) const override { return slot == 0 ? initial_ : 0.0f; }
  // Keras folds beta into the L2 strength with the step's rate: l2 + beta / (2 lr), in float32.
  void begin_step(float lr) override { two_l2_ = 2.0f * (l2_ + beta_ / (2.0f * lr)); }
  void update(Param& p, const float* g, std::vector<Tensor>& s, float lr, int64_t b,
              int64_t e) override {
    KS_UPDATE(p, ftrl_update, p.value.data() + b, g + b, s[0].data() + b, s[1].data() + b, e - b,
                              lr, lr_power_, l1_, two_l2_, shrink2_);
  }

 private:
  float lr_power_, initial_, l1_, l2_, shrink2_, beta_;
  float two_l2_ = 0;
};

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const std::string& kind, const Attrs& a) {
  if (kind == "sgd") return std::make_unique<SGD>(a);
  if (kind == "adam" || kind == "adamw") return std::make_unique<Adam>(a);
  if (kind == "rmsprop") return std::make_unique<RMSprop>(a);
  if (kind == "adagrad") return std::make_unique<Adagrad>(a);
  if (kind == "adadelta") return std::make_unique<Adadelta>(a);
  if (kind == "nadam") return std::make_unique<Nadam>(a);
  if (kind == "adamax") return std::make_unique<Adamax>(a);
  if (kind == "lion") return std::make_unique<Lion>(a);
  if (kind == "ftrl") return std::make_unique<Ftrl>(a);
  fail("Unknown engine optimizer '", kind, "'");
}

}  // namespace kerasette
