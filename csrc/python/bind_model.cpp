// Model, Session and Generator bindings. Every call that computes releases the GIL; the decode
// loop runs in C++ and Python receives only text pieces.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <chrono>
#include <functional>
#include <optional>

#include "core/cpu_count.h"
#include "core/error.h"
#include "model/generator.h"
#include "model/llama_model.h"
#include "model/session.h"
#include "python/bindings.h"
#include "python/py_gguf.h"
#include "tokenizer/tokenizer.h"

namespace py = pybind11;

namespace ple::python {
namespace {

py::dict hparams_dict(const LlamaHParams& hp) {
  py::dict d;
  d["n_layer"] = hp.n_layer;
  d["n_embd"] = hp.n_embd;
  d["n_ff"] = hp.n_ff;
  d["n_head"] = hp.n_head;
  d["n_head_kv"] = hp.n_head_kv;
  d["head_dim"] = hp.head_dim;
  d["n_rot"] = hp.n_rot;
  d["n_vocab"] = hp.n_vocab;
  d["n_ctx_train"] = hp.n_ctx_train;
  d["rope_base"] = hp.rope_base;
  d["rms_eps"] = hp.rms_eps;
  return d;
}

std::vector<int32_t> to_ids(const std::vector<int64_t>& ids) {
  std::vector<int32_t> out;
  out.reserve(ids.size());
  for (int64_t id : ids) {
    if (id < INT32_MIN || id > INT32_MAX) throw InvalidArgument("token id " + std::to_string(id) + " is out of range");
    out.push_back(static_cast<int32_t>(id));
  }
  return out;
}

// Owns the generator and keeps the session and tokenizer it points into alive.
struct PyGenerator {
  std::shared_ptr<Session> session;
  std::shared_ptr<const Tokenizer> tokenizer;
  std::unique_ptr<Generator> generator;
};

// Python's main thread (the only one that runs signal handlers), set when the module loads.
unsigned long g_main_thread = 0;

// Runs Python's signal handlers (Ctrl-C raises KeyboardInterrupt there) from inside a long native
// call that released the GIL: on the main thread only (other threads cannot handle signals, so
// they never wait for the GIL here), at most every 50 ms.
std::function<void()> signal_check() {
  return [last = std::chrono::steady_clock::time_point{}]() mutable {
    if (PyThread_get_thread_ident() != g_main_thread) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last < std::chrono::milliseconds(50)) return;
    last = now;
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  };
}

}  // namespace

void register_model(py::module_& m) {
  g_main_thread = py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
  py::class_<LlamaModel, std::shared_ptr<LlamaModel>>(m, "LlamaModel")
      .def(py::init([](const PyGGUFReader& reader, bool interleave_weights, const std::string& layout_cache_dir,
                       const std::optional<std::string>& isa) {
             std::shared_ptr<GGUFFile> file = reader.shared();
             py::gil_scoped_release release;
             ModelOptions options;
             options.interleave_weights = interleave_weights;
             options.layout_cache_dir = layout_cache_dir;
             options.isa = isa.value_or("");
             return std::make_shared<LlamaModel>(file, options);
           }),
           py::arg("reader"), py::arg("interleave_weights") = true, py::arg("layout_cache_dir") = "",
           py::arg("isa") = py::none())
      .def_property_readonly("isa", [](const LlamaModel& model) { return std::string(model.kernels().isa); })
      .def_property_readonly("interleaved_bytes", &LlamaModel::interleaved_bytes)
      .def_property_readonly("layout_cache_path", &LlamaModel::layout_cache_path)
      .def_property_readonly("hparams", [](const LlamaModel& model) { return hparams_dict(model.hparams()); })
      .def_property_readonly("output_tied", &LlamaModel::output_tied)
      .def_property_readonly("weight_bytes_per_token", &LlamaModel::weight_bytes_per_token);

  m.def(
      "session_file_kv_type",
      [](const std::string& path) { return std::string(kv_type_name(session_file_kv_type(path))); },
      py::arg("path"));

  py::class_<Session, std::shared_ptr<Session>>(m, "Session")
      .def(py::init([](std::shared_ptr<LlamaModel> model, int64_t n_ctx, int64_t n_batch, int n_threads,
                       bool float_activations, const std::string& kv_type) {
             SessionConfig config;
             config.float_activations = float_activations;
             config.kv_type = kv_type_from_name(kv_type);
             config.n_ctx = n_ctx;
             config.n_batch = n_batch;
             config.n_threads = n_threads;
             std::shared_ptr<Session> session;
             {
               py::gil_scoped_release release;
               session = std::make_shared<Session>(std::move(model), config);
             }
             session->set_interrupt_check(signal_check());
             return session;
           }),
           py::arg("model"), py::arg("n_ctx") = 0, py::arg("n_batch") = 512, py::arg("n_threads") = 0,
           py::arg("float_activations") = false, py::arg("kv_type") = "f16")
      .def("set_tokens",
           [](Session& s, const std::vector<int64_t>& ids) {
             const std::vector<int32_t> tokens = to_ids(ids);
             py::gil_scoped_release release;
             return s.set_tokens(tokens);
           })
      .def("append",
           [](Session& s, int64_t id) {
             const std::vector<int32_t> token = to_ids({id});
             py::gil_scoped_release release;
             s.append(token[0]);
           })
      .def("last_logits",
           [](const Session& s) {
             py::array_t<float> out(s.n_vocab());
             std::copy(s.logits(), s.logits() + s.n_vocab(), out.mutable_data());
             return out;
           })
      .def("evaluate_all",
           [](Session& s, const std::vector<int64_t>& ids) {
             const std::vector<int32_t> tokens = to_ids(ids);
             py::array_t<float> out({static_cast<py::ssize_t>(tokens.size()), static_cast<py::ssize_t>(s.n_vocab())});
             float* dst = out.mutable_data();
             py::gil_scoped_release release;
             s.evaluate_all(tokens, dst);
             return out;
           })
      .def("save",
           [](const Session& s, const std::string& path) {
             py::gil_scoped_release release;
             s.save(path);
           })
      .def("load",
           [](Session& s, const std::string& path) {
             py::gil_scoped_release release;
             s.load(path);
           })
      .def_property_readonly("history", [](const Session& s) { return s.history(); })
      .def_property_readonly("n_ctx", &Session::n_ctx)
      .def_property_readonly("n_threads", &Session::n_threads)
      .def_property_readonly("kv_cache_bytes", &Session::kv_cache_bytes)
      .def_property_readonly("kv_type", [](const Session& s) { return std::string(kv_type_name(s.kv_type())); })
      .def("reset", [](Session& s) {
        Session::Use use(s);
        s.reset();
      });

  py::class_<PyGenerator>(m, "Generator")
      .def(py::init([](std::shared_ptr<Session> session, std::shared_ptr<Tokenizer> tokenizer, const std::vector<int64_t>& prompt,
                       int64_t max_tokens, std::vector<std::string> stop, float temperature, int32_t top_k, float top_p,
                       float min_p, float repeat_penalty, float frequency_penalty, float presence_penalty,
                       int32_t penalty_last_n, uint64_t seed, bool ignore_eos) {
             GenerateParams p;
             p.max_tokens = max_tokens;
             p.stop = std::move(stop);
             p.ignore_eos = ignore_eos;
             p.sampling.temperature = temperature;
             p.sampling.top_k = top_k;
             p.sampling.top_p = top_p;
             p.sampling.min_p = min_p;
             p.sampling.repeat_penalty = repeat_penalty;
             p.sampling.frequency_penalty = frequency_penalty;
             p.sampling.presence_penalty = presence_penalty;
             p.sampling.penalty_last_n = penalty_last_n;
             p.sampling.seed = seed;
             auto g = std::make_unique<PyGenerator>();
             g->session = std::move(session);
             g->tokenizer = std::move(tokenizer);
             g->generator = std::make_unique<Generator>(*g->session, *g->tokenizer, to_ids(prompt), p);
             return g;
           }),
           py::arg("session"), py::arg("tokenizer"), py::arg("prompt"), py::arg("max_tokens"), py::arg("stop"),
           py::arg("temperature"), py::arg("top_k"), py::arg("top_p"), py::arg("min_p"), py::arg("repeat_penalty"),
           py::arg("frequency_penalty"), py::arg("presence_penalty"), py::arg("penalty_last_n"), py::arg("seed"),
           py::arg("ignore_eos") = false)
      .def("__iter__", [](PyGenerator& g) -> PyGenerator& { return g; })
      .def("__next__",
           [](PyGenerator& g) {
             std::string piece;
             bool more;
             {
               py::gil_scoped_release release;
               more = g.generator->next(&piece);
             }
             if (!more) throw py::stop_iteration();
             return py::str(piece);  // complete UTF-8 by construction
           })
      .def_property_readonly("finish_reason", [](const PyGenerator& g) { return g.generator->finish_reason(); })
      .def_property_readonly("n_prompt_tokens", [](const PyGenerator& g) { return g.generator->n_prompt_tokens(); })
      .def_property_readonly("n_generated", [](const PyGenerator& g) { return g.generator->n_generated(); })
      .def_property_readonly("n_prompt_evaluated", [](const PyGenerator& g) { return g.generator->n_prompt_evaluated(); })
      .def_property_readonly("generated_tokens", [](const PyGenerator& g) { return g.generator->generated_tokens(); });

  m.def("default_thread_count", &default_thread_count);
}

}  // namespace ple::python
