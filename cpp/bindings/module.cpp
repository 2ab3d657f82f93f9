// The pybind11 module kerasette._core. Bindings hold no logic: they turn numpy arrays into tensor
// views (no copy), release the GIL around compute, and let C++ exceptions become Python ones
// (ValueError for kerasette::ValueError, via std::invalid_argument).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "core/cpu_features.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "nn/graph.h"
#include "ops/dispatch.h"
#include "ops/gemm.h"

namespace py = pybind11;
using namespace kerasette;

namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

Shape shape_of(const py::array& a) {
  Shape s;
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s.push_back(a.shape(i));
  return s;
}

Tensor view_of(const FloatArray& a) {
  return Tensor::view(const_cast<float*>(a.data()), shape_of(a), nullptr);
}

// A writable view of a caller-owned float32 C-contiguous array (outputs written in place).
Tensor output_view(py::array& a) {
  KS_CHECK(a.dtype().is(py::dtype::of<float>()) && (a.flags() & py::array::c_style) &&
               a.writeable(),
           "internal: output buffers must be writable float32 C-contiguous arrays");
  return Tensor::view(static_cast<float*>(a.mutable_data()), shape_of(a), nullptr);
}

py::array_t<float> to_numpy(const Tensor& t) {
  py::array_t<float> out(t.shape());
  if (t.numel()) t.copy_to_host(out.mutable_data());  // a device tensor is copied down
  return out;
}

void copy_into(Tensor& dst, const FloatArray& src, const std::string& what) {
  KS_CHECK(shape_of(src) == dst.shape(), what, ": expected shape ", shape_str(dst.shape()),
           ", received shape ", shape_str(shape_of(src)));
  if (dst.numel()) dst.copy_from_host(src.data());
}

Attrs to_attrs(const py::dict& d) {
  Attrs a;
  for (auto item : d) {
    const std::string key = py::str(item.first);
    py::handle v = item.second;
    if (v.is_none()) continue;
    if (py::isinstance<py::bool_>(v)) {
      a.set(key, v.cast<bool>());
    } else if (py::isinstance<py::int_>(v)) {
      a.set(key, v.cast<int64_t>());
    } else if (py::isinstance<py::float_>(v)) {
      a.set(key, v.cast<double>());
    } else if (py::isinstance<py::str>(v)) {
      a.set(key, v.cast<std::string>());
    } else if (py::isinstance<py::sequence>(v)) {
      bool all_int = true;
      for (auto e : v.cast<py::sequence>()) all_int = all_int && py::isinstance<py::int_>(e);
      if (all_int)
        a.set(key, v.cast<std::vector<int64_t>>());
      else
        a.set(key, v.cast<std::vector<double>>());
    } else {
      throw TypeError(str_cat("engine attribute `", key, "` has an unsupported type"));
    }
  }
  return a;
}

DataSet make_dataset(const std::vector<FloatArray>& xs, const std::vector<std::optional<FloatArray>>& ys,
                     const std::optional<FloatArray>& sw,
                     const std::optional<py::array_t<int64_t, py::array::c_style | py::array::forcecast>>& index) {
  DataSet d;
  for (const auto& x : xs) d.inputs.push_back(view_of(x));
  const int64_t n = d.size();
  for (const auto& x : d.inputs)
    KS_CHECK(x.dim(0) == n, "All input arrays must have the same number of samples");
  for (const auto& y : ys) {
    d.targets.push_back(y ? view_of(*y) : Tensor());
    if (y) KS_CHECK(d.targets.back().dim(0) == n, "Targets and inputs must have the same number of samples");
  }
  if (sw) d.sample_weight = view_of(*sw);
  if (index) {
    KS_CHECK(index->size() == n, "internal: index length mismatch");
    const int64_t* p = index->data();
    for (int64_t i = 0; i < n; ++i) KS_CHECK(p[i] >= 0 && p[i] < n, "internal: bad index");
    d.index = p;
  }
  return d;
}

}  // namespace

void bind_cuda(py::module_& m);  // cuda_bindings.cpp

PYBIND11_MODULE(_core, m) {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const NotImplementedError& e) {
      PyErr_SetString(PyExc_NotImplementedError, e.what());
    } catch (const OutOfMemoryError& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    }
  });
  m.doc() = "kerasette's compiled engine";
#ifdef KERASETTE_VERSION
  m.attr("__version__") = KERASETTE_VERSION;
#endif
#ifdef KERASETTE_WITH_CUDA
  m.attr("cuda_built") = true;
#else
  m.attr("cuda_built") = false;
#endif

  bind_cuda(m);
  m.def("cpu_isa", &cpu_isa);
  m.def("supported_cpu_isas", &supported_cpu_isas);
  m.def("set_cpu_isa", &set_cpu_isa, py::arg("name"));
  m.def("num_threads", &num_threads);
  m.def("set_num_threads", &set_num_threads, py::arg("n"));

  m.def("random_uniform", [](const Shape& shape, uint64_t seed, uint64_t stream, float lo, float hi) {
    Tensor t(shape);
    { py::gil_scoped_release release; rng_fill_uniform(t.data(), t.numel(), seed, stream, lo, hi); }
    return to_numpy(t);
  }, py::arg("shape"), py::arg("seed"), py::arg("stream"), py::arg("minval"), py::arg("maxval"));
  m.def("random_normal", [](const Shape& shape, uint64_t seed, uint64_t stream, float mean, float sd) {
    Tensor t(shape);
    { py::gil_scoped_release release; rng_fill_normal(t.data(), t.numel(), seed, stream, mean, sd); }
    return to_numpy(t);
  }, py::arg("shape"), py::arg("seed"), py::arg("stream"), py::arg("mean"), py::arg("stddev"));
  m.def("truncated_normal", [](const Shape& shape, uint64_t seed, uint64_t stream, float mean, float sd) {
    Tensor t(shape);
    {
      py::gil_scoped_release release;
      rng_fill_truncated_normal(t.data(), t.numel(), seed, stream, mean, sd);
    }
    return to_numpy(t);
  }, py::arg("shape"), py::arg("seed"), py::arg("stream"), py::arg("mean"), py::arg("stddev"));
  m.def("mix_seed", &mix_seed);
  m.def("_tensor_allocation_count", &tensor_allocation_count);

  m.def("matmul", [](const FloatArray& a, const FloatArray& b) {
    KS_CHECK(a.ndim() == 2 && b.ndim() == 2, "matmul: expected two 2-D arrays, received shapes ",
             shape_str(shape_of(a)), " and ", shape_str(shape_of(b)));
    const int64_t M = a.shape(0), K = a.shape(1), N = b.shape(1);
    KS_CHECK(b.shape(0) == K, "matmul: inner dimensions differ: ", shape_str(shape_of(a)), " @ ",
             shape_str(shape_of(b)));
    py::array_t<float> c({M, N});
    float* cp = c.mutable_data();
    const float *ap = a.data(), *bp = b.data();
    {
      py::gil_scoped_release release;
      gemm(false, false, M, N, K, ap, K, bp, N, cp, N);
    }
    return c;
  }, py::arg("a"), py::arg("b"));

  py::class_<Layer, std::shared_ptr<Layer>>(m, "Layer")
      .def(py::init([](const std::string& kind, const std::string& name, const py::dict& attrs) {
             return std::shared_ptr<Layer>(make_layer(kind, name, to_attrs(attrs)));
           }),
           py::arg("kind"), py::arg("name"), py::arg("attrs"))
      .def_property_readonly("name", &Layer::name)
      .def_readwrite("trainable", &Layer::trainable)
      .def_property_readonly("num_params", [](const Layer& l) { return l.params().size(); })
      .def("param_name", [](const Layer& l, size_t i) { return l.params().at(i).name; })
      .def("param_trainable", [](const Layer& l, size_t i) { return l.params().at(i).trainable; })
      .def("param_shape", [](const Layer& l, size_t i) { return l.params().at(i).value.shape(); })
      .def("get_param", [](const Layer& l, size_t i) { return to_numpy(l.params().at(i).value); })
      .def("get_grad", [](const Layer& l, size_t i) { return to_numpy(l.params().at(i).grad); })
      .def("set_param", [](Layer& l, size_t i, const FloatArray& v) {
        Param& p = l.params().at(i);
        copy_into(p.value, v, str_cat("Layer '", l.name(), "' weight '", p.name, "'"));
      })
      .def("set_regularizer", [](Layer& l, size_t i, float l1, float l2) {
        l.params().at(i).l1 = l1;
        l.params().at(i).l2 = l2;
      })
      .def("set_activity_regularizer", [](Layer& l, float l1, float l2) {
        l.activity_l1 = l1;
        l.activity_l2 = l2;
      });

  py::class_<Graph>(m, "Graph")
      .def(py::init<>())
      .def("add_input", &Graph::add_input, py::arg("shape"))
      .def("set_device", [](Graph& g, const std::string& kind, bool strict) {
        KS_CHECK(kind == "cpu" || kind == "cuda", "Graph.set_device: expected 'cpu' or 'cuda', "
                 "received '", kind, "'");
        g.set_device(kind == "cuda" ? Device::CUDA : Device::CPU, strict);
      }, py::arg("kind"), py::arg("strict") = true)
      .def_property_readonly("device", [](const Graph& g) {
        return std::string(g.device() == Device::CUDA ? "cuda" : "cpu");
      })
      .def("add_node", &Graph::add_node, py::arg("layer"), py::arg("inputs"))
      .def("node_shape", &Graph::node_shape)
      .def("set_outputs", &Graph::set_outputs)
      .def("compile", [](Graph& g, const py::list& losses, const std::string& opt_kind,
                         const py::dict& opt_attrs) {
        std::vector<OutputLoss> out;
        for (auto item : losses) {
          // (kind or None, attrs, weight, [(metric, attrs, weighted)])
          auto t = item.cast<py::tuple>();
          OutputLoss ol;
          if (!t[0].is_none()) ol.loss = make_loss(t[0].cast<std::string>(), to_attrs(t[1]));
          ol.weight = t[2].cast<float>();
          for (auto mt : t[3].cast<py::list>()) {
            auto mtt = mt.cast<py::tuple>();
            ol.metrics.push_back(make_metric(mtt[0].cast<std::string>(), to_attrs(mtt[1])));
            ol.metrics.back()->weighted = mtt.size() > 2 && mtt[2].cast<bool>();
          }
          out.push_back(std::move(ol));
        }
        g.compile(std::move(out), make_optimizer(opt_kind, to_attrs(opt_attrs)));
      })
      .def("check_target", &Graph::check_target, py::arg("output"), py::arg("target_shape"))
      .def("train_batches", [](Graph& g, const std::vector<FloatArray>& xs,
                               const std::vector<std::optional<FloatArray>>& ys,
                               const std::optional<FloatArray>& sw,
                               const std::optional<py::array_t<int64_t, py::array::c_style | py::array::forcecast>>& index,
                               int64_t batch_size, int64_t first, int64_t count) {
        DataSet d = make_dataset(xs, ys, sw, index);
        py::gil_scoped_release release;
        g.train_batches(d, batch_size, first, count);
      })
      .def("test_batches", [](Graph& g, const std::vector<FloatArray>& xs,
                              const std::vector<std::optional<FloatArray>>& ys,
                              const std::optional<FloatArray>& sw, int64_t batch_size, int64_t first,
                              int64_t count) {
        DataSet d = make_dataset(xs, ys, sw, std::nullopt);
        py::gil_scoped_release release;
        g.test_batches(d, batch_size, first, count);
      })
      .def("predict", [](Graph& g, const std::vector<FloatArray>& xs, int64_t batch_size,
                         std::vector<py::array> outs, bool training) {
        DataSet d = make_dataset(xs, {}, std::nullopt, std::nullopt);
        std::vector<Tensor> views;
        for (auto& o : outs) views.push_back(output_view(o));
        py::gil_scoped_release release;
        g.predict(d, batch_size, views, training);
      }, py::arg("inputs"), py::arg("batch_size"), py::arg("outputs"), py::arg("training") = false)
      // One input array, one output, one batch, returned as a new array: the short road of
      // `model(x)` on a single sample, with no lists to convert and no output to preallocate.
      .def("predict_array", [](Graph& g, const FloatArray& x) {
        KS_CHECK(g.num_outputs() == 1, "internal: predict_array needs a single-output graph");
        DataSet d;
        d.inputs.push_back(view_of(x));
        {
          py::gil_scoped_release release;
          g.predict_batch(d);
        }
        const Tensor& y = g.output(0);
        py::array_t<float> out(y.shape());
        y.copy_to_host(out.mutable_data());
        return out;
      }, py::arg("x"))
      .def("results", &Graph::results)
      .def("reset_metrics", &Graph::reset_metrics)
      .def_property("iterations",
                    [](Graph& g) { return g.optimizer() ? g.optimizer()->iterations : 0; },
                    [](Graph& g, int64_t v) {
                      KS_CHECK(g.optimizer(), "the model is not compiled");
                      g.optimizer()->iterations = v;
                    })
      .def_property("learning_rate",
                    [](Graph& g) { return g.optimizer() ? g.optimizer()->current_learning_rate() : 0.0f; },
                    [](Graph& g, double lr) {
                      KS_CHECK(g.optimizer(), "the model is not compiled");
                      g.optimizer()->schedule.kind = "constant";
                      g.optimizer()->schedule.initial = lr;
                    })
      .def("optimizer_slot_names", [](Graph& g) {
        return g.optimizer() ? g.optimizer()->slot_names() : std::vector<std::string>{};
      })
      .def("get_optimizer_slots", [](Graph& g) {
        std::vector<std::vector<py::array_t<float>>> out;
        Optimizer* o = g.optimizer();
        if (!o) return out;
        for (size_t i = 0; i < o->num_variables(); ++i) {
          out.emplace_back();
          for (const Tensor& t : o->slots(i)) out.back().push_back(to_numpy(t));
        }
        return out;
      })
      .def("set_optimizer_slots", [](Graph& g, const std::vector<std::vector<FloatArray>>& v) {
        Optimizer* o = g.optimizer();
        KS_CHECK(o, "the model is not compiled");
        KS_CHECK(v.size() == o->num_variables(), "optimizer state has ", v.size(),
                 " variables, the model's optimizer has ", o->num_variables());
        for (size_t i = 0; i < v.size(); ++i) {
          KS_CHECK(v[i].size() == o->slots(i).size(), "optimizer state for variable ", i, " has ",
                   v[i].size(), " slots, expected ", o->slots(i).size());
          for (size_t s = 0; s < v[i].size(); ++s)
            copy_into(o->slots(i)[s], v[i][s], str_cat("optimizer slot ", s, " of variable ", i));
        }
      })
      .def("get_optimizer_extra_state", [](Graph& g) {
        return g.optimizer() ? g.optimizer()->extra_state() : std::vector<double>{};
      })
      .def("set_optimizer_extra_state", [](Graph& g, const std::vector<double>& s) {
        if (g.optimizer()) g.optimizer()->set_extra_state(s);
      });
}
