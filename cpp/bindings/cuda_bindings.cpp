// CUDA entry points of kerasette._core: device queries for kerasette.config, and test-only
// helpers (`_cuda_test_*`) that run one CUDA kernel and its CPU counterpart on the same inputs,
// so tests/test_cuda.py can compare them. In a build without CUDA the queries answer "no device"
// and the test helpers are absent.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cstring>
#include <optional>

#include "core/error.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "kernels/cpu/kernels.h"
#include "ops/conv2d.h"
#include "ops/conv2d_cuda.h"
#include "ops/dispatch.h"
#include "ops/gemm.h"
#ifdef KERASETTE_WITH_CUDA
#include "core/cuda_allocator.h"
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace py = pybind11;
using namespace kerasette;

namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

#ifdef KERASETTE_WITH_CUDA
Shape shape_of(const py::array& a) {
  Shape s;
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s.push_back(a.shape(i));
  return s;
}

Tensor upload(const FloatArray& a) {
  Tensor t(shape_of(a), Device::CUDA);
  if (t.numel()) t.copy_from_host(a.data());
  return t;
}

py::array_t<float> download(const Tensor& t) {
  py::array_t<float> out(t.shape());
  if (t.numel()) t.copy_to_host(out.mutable_data());
  return out;
}

py::array_t<float> host_copy(const FloatArray& a) {
  py::array_t<float> out(shape_of(a));
  if (a.size()) std::memcpy(out.mutable_data(), a.data(), sizeof(float) * a.size());
  return out;
}
#endif

}  // namespace

void bind_cuda(py::module_& m) {
#ifdef KERASETTE_WITH_CUDA
  m.def("cuda_device_count", &cuda::device_count);
  m.def("cuda_set_device", &cuda::set_current_device, py::arg("index"));
  m.def("cuda_current_device", &cuda::current_device);
  m.def("cuda_device_info", [](int index) {
    const cuda::DeviceInfo i = cuda::device_info(index);
    py::dict d;
    d["name"] = i.name;
    d["total_bytes"] = i.total_bytes;
    d["free_bytes"] = i.free_bytes;
    d["compute_capability"] = py::make_tuple(i.major, i.minor);
    d["multiprocessors"] = i.multiprocessors;
    return d;
  }, py::arg("index"));
  m.def("cuda_synchronize", [] {
    py::gil_scoped_release release;
    cuda::synchronize();
  });
  m.def("cuda_memory_stats", [] {
    py::dict d;
    d["allocated_bytes"] = cuda::allocated_bytes();
    d["cached_bytes"] = cuda::cached_bytes();
    d["cuda_malloc_calls"] = cuda::cuda_malloc_calls();
    return d;
  });
  m.def("cuda_empty_cache", &cuda::empty_cache);
  m.def("cuda_set_gemm_tf32", &cuda::set_gemm_tf32, py::arg("on"));
  m.def("cuda_gemm_tf32", &cuda::gemm_tf32);

  // ---- test helpers: each returns (cpu_result, cuda_result) ----
  m.def("_cuda_test_gemm", [](const FloatArray& a, const FloatArray& b, bool ta, bool tb,
                              const FloatArray& c0, bool accumulate,
                              const std::optional<FloatArray>& bias, int act, float alpha) {
    const int64_t M = ta ? a.shape(1) : a.shape(0), K = ta ? a.shape(0) : a.shape(1);
    const int64_t N = tb ? b.shape(0) : b.shape(1);
    KS_CHECK((tb ? b.shape(1) : b.shape(0)) == K && c0.shape(0) == M && c0.shape(1) == N,
             "_cuda_test_gemm: shapes do not agree");
    GemmEpilogue ep;
    ep.act = static_cast<Act>(act);
    ep.alpha = alpha;
    ep.bias = bias ? bias->data() : nullptr;
    py::array_t<float> cpu = host_copy(c0);
    gemm(ta, tb, M, N, K, a.data(), a.shape(1), b.data(), b.shape(1), cpu.mutable_data(), N,
         accumulate, &ep);
    Tensor da = upload(a), db = upload(b), dc = upload(c0);
    Tensor dbias = bias ? upload(*bias) : Tensor();
    cuda::gemm(ta, tb, M, N, K, da.data(), a.shape(1), db.data(), b.shape(1), dc.data(), N,
               accumulate, bias ? dbias.data() : nullptr, ep.act, alpha);
    return py::make_tuple(cpu, download(dc));
  }, py::arg("a"), py::arg("b"), py::arg("trans_a"), py::arg("trans_b"), py::arg("c"),
     py::arg("accumulate"), py::arg("bias"), py::arg("act"), py::arg("alpha"));

  m.def("_cuda_test_activation", [](int act, float alpha, const FloatArray& x,
                                    const FloatArray& dy) {
    const Act a = static_cast<Act>(act);
    const int64_t n = x.size();
    const CpuKernels& k = cpu_kernels();
    py::array_t<float> y(shape_of(x)), dx(shape_of(x));
    Tensor dxx = upload(x), ddy = upload(dy), dyy(shape_of(x), Device::CUDA),
           ddx(shape_of(x), Device::CUDA);
    if (a == Act::Softmax) {
      const int64_t cols = x.ndim() ? x.shape(x.ndim() - 1) : 1, rows = cols ? n / cols : 0;
      k.softmax_rows(x.data(), y.mutable_data(), rows, cols);
      k.softmax_rows_backward(y.data(), dy.data(), dx.mutable_data(), rows, cols);
      cuda::softmax_rows(dxx.data(), dyy.data(), rows, cols);
      cuda::softmax_rows_backward(dyy.data(), ddy.data(), ddx.data(), rows, cols);
    } else {
      k.act_forward(a, alpha, x.data(), y.mutable_data(), n);
      k.act_backward(a, alpha, x.data(), y.data(), dy.data(), dx.mutable_data(), n);
      cuda::act_forward(a, alpha, dxx.data(), dyy.data(), n);
      cuda::act_backward(a, alpha, dxx.data(), dyy.data(), ddy.data(), ddx.data(), n);
    }
    return py::make_tuple(py::make_tuple(y, dx), py::make_tuple(download(dyy), download(ddx)));
  }, py::arg("act"), py::arg("alpha"), py::arg("x"), py::arg("dy"));

  m.def("_cuda_test_sum_rows", [](const FloatArray& x, const FloatArray& out0, bool accumulate) {
    const int64_t rows = x.shape(0), cols = x.shape(1);
    py::array_t<float> cpu = host_copy(out0);
    cpu_kernels().sum_rows(x.data(), cpu.mutable_data(), rows, cols, accumulate);
    Tensor dx = upload(x), dout = upload(out0);
    cuda::sum_rows(dx.data(), dout.data(), rows, cols, accumulate);
    return py::make_tuple(cpu, download(dout));
  }, py::arg("x"), py::arg("out"), py::arg("accumulate"));

  m.def("_cuda_test_add_bias", [](const FloatArray& y0, const FloatArray& bias) {
    const int64_t rows = y0.shape(0), cols = y0.shape(1);
    py::array_t<float> cpu = host_copy(y0);
    cpu_kernels().add_bias_rows(cpu.mutable_data(), bias.data(), rows, cols);
    Tensor dy = upload(y0), db = upload(bias);
    cuda::add_bias_rows(dy.data(), db.data(), rows, cols);
    return py::make_tuple(cpu, download(dy));
  }, py::arg("y"), py::arg("bias"));

  // The dropout mask of `n` elements at (seed, step) as the CPU DropoutLayer draws it, and the
  // CUDA kernel's.
  m.def("_cuda_test_dropout_mask", [](int64_t n, float rate, uint64_t seed, uint64_t step) {
    const float scale = rate >= 1.0f ? 0.0f : 1.0f / (1.0f - rate);
    const uint64_t stream = mix_seed(seed, step);
    py::array_t<float> cpu(n);
    float* mp = cpu.mutable_data();
    for (int64_t i = 0; i < n; ++i)
      mp[i] = rng_uniform_at(seed, stream, static_cast<uint64_t>(i)) >= rate ? scale : 0.0f;
    Tensor x = Tensor::full({n}, 1.0f, Device::CUDA), y({n}, Device::CUDA), mask({n}, Device::CUDA);
    cuda::dropout_forward(x.data(), y.data(), mask.data(), n, rate, scale, seed, stream);
    return py::make_tuple(cpu, download(mask));
  }, py::arg("n"), py::arg("rate"), py::arg("seed"), py::arg("step"));

  // Conv2D (groups 1) on both devices: x (N, H, W, Cin), kernel (KH, KW, Cin, Cout), bias (Cout),
  // dy (N, OH, OW, Cout). Returns ((y, dx, dkernel, dbias) on the CPU, the same on the GPU);
  // dkernel/dbias accumulate onto dk0/db0 when `accumulate`.
  m.def("_cuda_test_conv2d", [](const FloatArray& x, const FloatArray& kernel,
                                const FloatArray& bias, const FloatArray& dy, int64_t sh,
                                int64_t sw, int64_t dh, int64_t dw, const std::string& padding,
                                int act, float alpha, const FloatArray& dk0, const FloatArray& db0,
                                bool accumulate) {
    KS_CHECK(x.ndim() == 4 && kernel.ndim() == 4 && kernel.shape(2) == x.shape(3),
             "_cuda_test_conv2d: shapes do not agree");
    Conv2dGeometry g;
    g.batch = x.shape(0);
    g.cin = x.shape(3);
    g.cout = kernel.shape(3);
    const Padding pad = parse_padding(padding);
    g.h = window_axis(x.shape(1), kernel.shape(0), sh, dh, pad);
    g.w = window_axis(x.shape(2), kernel.shape(1), sw, dw, pad);
    KS_CHECK(g.h.out > 0 && g.w.out > 0 && dy.ndim() == 4 && dy.shape(0) == g.batch &&
                 dy.shape(1) == g.h.out && dy.shape(2) == g.w.out && dy.shape(3) == g.cout,
             "_cuda_test_conv2d: dy must be (N, ", g.h.out, ", ", g.w.out, ", ", g.cout, ")");
    const Act a = static_cast<Act>(act);
    const Shape ys{g.batch, g.h.out, g.w.out, g.cout};
    py::array_t<float> y(ys), dx(shape_of(x));
    py::array_t<float> dk = host_copy(dk0), db = host_copy(db0);
    {
      Tensor col, dcol;
      const bool valid = conv2d_forward(g, x.data(), kernel.data(), bias.data(), a, alpha,
                                        y.mutable_data(), col);
      conv2d_backward_weight(g, x.data(), dy.data(), dk.mutable_data(), db.mutable_data(),
                             accumulate, col, valid);
      conv2d_backward_input(g, dy.data(), kernel.data(), dx.mutable_data(), dcol);
    }
    Tensor gx = upload(x), gk = upload(kernel), gb = upload(bias), gdy = upload(dy);
    Tensor gdk = upload(dk0), gdb = upload(db0), gy(ys, Device::CUDA), gdx(shape_of(x), Device::CUDA);
    Tensor col, dcol;
    const bool valid = conv2d_forward_cuda(g, gx.data(), gk.data(), gb.data(), a, alpha, gy.data(),
                                           col);
    conv2d_backward_weight_cuda(g, gx.data(), gdy.data(), gdk.data(), gdb.data(), accumulate, col,
                                valid);
    conv2d_backward_input_cuda(g, gdy.data(), gk.data(), gdx.data(), dcol);
    return py::make_tuple(py::make_tuple(y, dx, dk, db),
                          py::make_tuple(download(gy), download(gdx), download(gdk),
                                         download(gdb)));
  }, py::arg("x"), py::arg("kernel"), py::arg("bias"), py::arg("dy"), py::arg("sh"),
     py::arg("sw"), py::arg("dh"), py::arg("dw"), py::arg("padding"), py::arg("act"),
     py::arg("alpha"), py::arg("dk0"), py::arg("db0"), py::arg("accumulate"));

  // 2-D pooling on the GPU only (tests compare with a NumPy reference): x (N, H, W, C), dy of the
  // output's shape. Returns (y, dx).
  m.def("_cuda_test_pool2d", [](const FloatArray& x, const FloatArray& dy, int64_t ph, int64_t pw,
                                int64_t sh, int64_t sw, const std::string& padding, bool is_max) {
    KS_CHECK(x.ndim() == 4, "_cuda_test_pool2d: x must be (N, H, W, C)");
    const Padding pad = parse_padding(padding);
    const WindowAxis ah = window_axis(x.shape(1), ph, sh, 1, pad);
    const WindowAxis aw = window_axis(x.shape(2), pw, sw, 1, pad);
    const Shape ys{x.shape(0), ah.out, aw.out, x.shape(3)};
    KS_CHECK(ah.out > 0 && aw.out > 0 && shape_of(dy) == ys, "_cuda_test_pool2d: bad dy shape");
    cuda::ConvGeometry d;
    d.H = ah.in; d.W = aw.in; d.C = x.shape(3); d.OH = ah.out; d.OW = aw.out;
    d.KH = ph; d.KW = pw; d.sh = sh; d.sw = sw; d.ph = ah.pad_before; d.pw = aw.pad_before;
    Tensor gx = upload(x), gdy = upload(dy), gy(ys, Device::CUDA), arg(ys, Device::CUDA),
           gdx(shape_of(x), Device::CUDA);
    int32_t* ap = reinterpret_cast<int32_t*>(arg.data());
    cuda::pool_forward(d, x.shape(0), is_max, gx.data(), gy.data(), ap);
    cuda::pool_backward(d, x.shape(0), is_max, gdy.data(), ap, gdx.data());
    return py::make_tuple(download(gy), download(gdx));
  }, py::arg("x"), py::arg("dy"), py::arg("ph"), py::arg("pw"), py::arg("sh"), py::arg("sw"),
     py::arg("padding"), py::arg("is_max"));

  // Seconds per C = A B of M x K by K x N on the device (inputs uniform in [-1, 1)), the mean
  // of `reps` products after two warm-ups: for benchmarks.
  m.def("_cuda_bench_gemm", [](int64_t M, int64_t N, int64_t K, int reps) {
    py::gil_scoped_release release;
    Tensor a({M, K}, Device::CUDA), b({K, N}, Device::CUDA), c({M, N}, Device::CUDA);
    Tensor ha({M, K}), hb({K, N});
    rng_fill_uniform(ha.data(), ha.numel(), 1, 1, -1.0f, 1.0f);
    rng_fill_uniform(hb.data(), hb.numel(), 1, 2, -1.0f, 1.0f);
    a.copy_from(ha);
    b.copy_from(hb);
    auto run = [&] {
      cuda::gemm(false, false, M, N, K, a.data(), K, b.data(), N, c.data(), N, false, nullptr,
                 Act::Linear, 0.0f);
    };
    run();
    run();
    cuda::synchronize();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) run();
    cuda::synchronize();
    const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
    return dt.count() / reps;
  }, py::arg("m"), py::arg("n"), py::arg("k"), py::arg("reps") = 10);
#else
  m.def("cuda_device_count", [] { return 0; });
#endif
}
