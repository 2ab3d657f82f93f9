// Optimizers with Keras 3's update rules. The base class owns what every optimizer shares
// (learning-rate schedule, gradient clipping, decoupled weight decay, the iteration counter);
// a subclass names its slot variables and writes only its update.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "nn/attrs.h"
#include "nn/layer.h"

namespace kerasette {

// Learning rate as a function of the iteration count (Keras's LearningRateSchedule classes).
struct LearningRateSchedule {
  // constant | exponential | piecewise | cosine | inverse_time | polynomial
  std::string kind = "constant";
  double initial = 0.001, decay_steps = 1, decay_rate = 1, alpha = 0;
  double warmup_target = -1, warmup_steps = 0;
  double end_learning_rate = 0.0001, power = 1;  // polynomial
  bool staircase = false, cycle = false;
  std::vector<double> boundaries, values;
  double at(int64_t step) const;
};

class Optimizer {
 public:
  explicit Optimizer(const Attrs& attrs);
  virtual ~Optimizer() = default;

  // Creates the slots of each variable (zeros, or the initial accumulator value).
  void build(const std::vector<Param*>& vars);
  // One update of every variable from its gradient; increments iterations.
  void apply(const std::vector<Param*>& vars);
  // Moves the slots to `device` (the graph calls it with its own device before each run).
  void place(Device device);
  float current_learning_rate() const { return static_cast<float>(schedule.at(iterations)); }

  virtual std::vector<std::string> slot_names() const = 0;  // Keras's names, e.g. momentum, velocity
  std::vector<Tensor>& slots(size_t var) { return slots_.at(var); }
  size_t num_variables() const { return slots_.size(); }
  bool built() const { return built_; }
  // Optimizer-wide scalar state beyond the iteration count (Nadam's u_product).
  virtual std::vector<double> extra_state() const { return {}; }
  virtual void set_extra_state(const std::vector<double>&) {}

  int64_t iterations = 0;
  LearningRateSchedule schedule;
  double weight_decay = 0.0;
  double clipnorm = 0.0, clipvalue = 0.0, global_clipnorm = 0.0;

 protected:
  virtual float initial_slot_value(size_t) const { return 0.0f; }
  virtual void begin_step(float /*lr*/) {}
  // Updates elements [begin, end) of one variable (called on chunks, possibly concurrently).
  virtual void update(Param& var, const float* grad, std::vector<Tensor>& slots, float lr,
                      int64_t begin, int64_t end) = 0;

 private:
  std::vector<std::vector<Tensor>> slots_;
  std::vector<Tensor> clipped_;  // scratch gradients when clipping is on
  std::vector<const float*> grads_;  // each variable's gradient for this step (reused)
  bool built_ = false;
};

std::unique_ptr<Optimizer> make_optimizer(const std::string& kind, const Attrs& attrs);

}  // namespace kerasette
