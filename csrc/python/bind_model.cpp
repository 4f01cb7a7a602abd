// Model, Session, GenerateParams and Generator bindings. Every call that computes releases the GIL;
// the decode loop runs in C++ and Python receives only text pieces and a GenerationResult.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <chrono>
#include <functional>
#include <random>
#include <optional>

#include "core/cpu_count.h"
#include "core/error.h"
#include "model/generator.h"
#include "model/model.h"
#include "model/session.h"
#include "python/bindings.h"
#include "python/py_args.h"
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

// Owns the generator and keeps the session it runs on (and so the model) alive.
struct PyGenerator {
  std::shared_ptr<Session> session;
  std::unique_ptr<Generator> generator;

  // The generator is destroyed without the GIL: its logits mask thread, if any, takes the GIL to
  // drop its Python thread state before it ends (HelperThreadState), and is joined here.
  ~PyGenerator() {
    py::gil_scoped_release release;
    generator.reset();
  }
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

// A str is text (control-token text stays plain), a Prompt is used as it is, anything else must
// be a sequence of token ids.
Prompt prompt_arg(py::handle prompt) {
  if (py::isinstance<Prompt>(prompt)) return prompt.cast<Prompt>();
  if (PyUnicode_Check(prompt.ptr())) {  // a lone surrogate: UnicodeEncodeError (a ValueError) naming it
    return Prompt::from_text(py::reinterpret_borrow<py::str>(prompt).attr("encode")("utf-8").cast<std::string>());
  }
  if (PyBytes_Check(prompt.ptr()) || PyByteArray_Check(prompt.ptr()) || PyMemoryView_Check(prompt.ptr())) {
    throw py::type_error("prompt must be a str or a list of token ids, got " +
                         std::string(py::str(py::type::handle_of(prompt).attr("__name__"))) +
                         " (decode it first, e.g. prompt.decode('utf-8'))");
  }
  if (!PySequence_Check(prompt.ptr())) {
    throw py::type_error("prompt must be a str or a list of token ids, got " +
                         std::string(py::str(py::type::handle_of(prompt).attr("__name__"))));
  }
  return Prompt::from_ids(token_ids_arg(prompt, "prompt"));
}

bool interpreter_finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing() != 0;
#else
  return _Py_IsFinalizing() != 0;
#endif
}

// The logits mask runs on the generator's helper thread, which Python does not know. There a plain
// gil_scoped_acquire creates a Python thread state and deletes it at the end of the scope: an
// mmap and a munmap per token, and each munmap interrupts the forward pass on the other cores to
// flush their TLBs. So the first call on such a thread keeps its thread state until the thread
// ends (PyGenerator releases the GIL while it joins the thread). Not during interpreter shutdown,
// when taking the GIL would never return; the thread state is freed with the interpreter then.
class HelperThreadState {
 public:
  HelperThreadState() = default;
  HelperThreadState(const HelperThreadState&) = delete;
  HelperThreadState& operator=(const HelperThreadState&) = delete;
  void keep(py::gil_scoped_acquire& gil) {
    if (kept_) return;
    gil.inc_ref();
    kept_ = true;
  }
  ~HelperThreadState() {
    if (!kept_ || Py_IsInitialized() == 0 || interpreter_finalizing()) return;
    py::gil_scoped_acquire gil;
    gil.dec_ref();  // the scope's end deletes the thread state
  }

 private:
  bool kept_ = false;
};
thread_local HelperThreadState t_helper_thread_state;

// A Python callable mask(previous: int, allowed: numpy uint32 array) -> bool as the core's
// LogitsMaskFn. The array is a view of the generator's buffer, valid only during the call.
LogitsMaskFn logits_mask_arg(py::handle fn) {
  if (fn.is_none()) return {};
  if (!PyCallable_Check(fn.ptr())) throw py::type_error("logits_mask must be callable, got " + std::string(py::str(py::type::handle_of(fn).attr("__name__"))));
  // Dropped with the GIL held: the last copy may go away on a thread that released it.
  std::shared_ptr<py::object> holder(new py::object(py::reinterpret_borrow<py::object>(fn)), [](py::object* o) {
    py::gil_scoped_acquire gil;
    delete o;
  });
  return [holder](int32_t previous, uint32_t* allowed, int32_t n_vocab) {
    const bool python_thread = PyGILState_GetThisThreadState() != nullptr;
    py::gil_scoped_acquire gil;
    if (!python_thread) t_helper_thread_state.keep(gil);
    const py::ssize_t words = (static_cast<py::ssize_t>(n_vocab) + 31) / 32;
    py::array_t<uint32_t> view({words}, {sizeof(uint32_t)}, allowed, py::none());
    return (*holder)(previous, view).cast<bool>();
  };
}

// None (off), "lookup" (prompt lookup) or a native Model (the draft model).
Speculation speculation_arg(py::handle value) {
  Speculation s;
  if (value.is_none()) return s;
  if (PyUnicode_Check(value.ptr())) {
    if (value.cast<std::string>() != "lookup") {
      throw py::value_error("speculative must be 'lookup' or a draft model, got " + std::string(py::repr(value)));
    }
    s.source = Speculation::Source::PromptLookup;
    return s;
  }
  if (!py::isinstance<Model>(value)) {
    throw py::type_error("speculative must be 'lookup' or a draft model, got " +
                         std::string(py::str(py::type::handle_of(value).attr("__name__"))));
  }
  s.source = Speculation::Source::DraftModel;
  s.draft_model = value.cast<std::shared_ptr<Model>>();
  return s;
}

GenerateParams make_params(py::object max_tokens, py::object temperature, py::object top_k, py::object top_p,
                           py::object min_p, py::object repeat_penalty, py::object frequency_penalty,
                           py::object presence_penalty, py::object penalty_last_n, py::object seed, py::object stop,
                           py::object ignore_eos, py::object logits_mask, py::object speculative,
                           py::object draft_max, py::object top_logprobs) {
  GenerateParams p;
  p.max_tokens = max_tokens.is_none() ? -1 : int_arg(max_tokens, "max_tokens", -1, INT64_MAX);
  p.sampling.temperature = float_arg(temperature, "temperature");
  p.sampling.top_k = static_cast<int32_t>(int_arg(top_k, "top_k", INT32_MIN, INT32_MAX));
  p.sampling.top_p = float_arg(top_p, "top_p");
  p.sampling.min_p = float_arg(min_p, "min_p");
  p.sampling.repeat_penalty = float_arg(repeat_penalty, "repeat_penalty");
  p.sampling.frequency_penalty = float_arg(frequency_penalty, "frequency_penalty");
  p.sampling.presence_penalty = float_arg(presence_penalty, "presence_penalty");
  p.sampling.penalty_last_n = static_cast<int32_t>(int_arg(penalty_last_n, "penalty_last_n", INT32_MIN, INT32_MAX));
  p.sampling.seed = seed.is_none() ? (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}()
                                   : uint64_arg(seed, "seed");
  p.stop = stop_arg(stop);
  p.ignore_eos = ignore_eos.cast<bool>();
  p.logits_mask = logits_mask_arg(logits_mask);
  p.speculation = speculation_arg(speculative);
  p.speculation.max_draft = static_cast<int>(int_arg(draft_max, "draft_max", 1, kMaxDraft));
  p.top_logprobs = top_logprobs.is_none() ? -1 : static_cast<int>(int_arg(top_logprobs, "top_logprobs", 0, kMaxTopLogprobs));
  p.validate();
  return p;
}

Pooling pooling_arg(py::handle pooling) {
  if (PyUnicode_Check(pooling.ptr())) {
    const std::string name = pooling.cast<std::string>();
    if (name == "mean") return Pooling::Mean;
    if (name == "cls") return Pooling::Cls;
    if (name == "last") return Pooling::Last;
  }
  throw py::value_error("pooling must be 'mean', 'cls' or 'last', got " + std::string(py::repr(pooling)));
}

py::tuple logprob_tuple(const TokenLogprob& t) {
  py::list top;
  for (const auto& [token, logprob] : t.top) top.append(py::make_tuple(token, logprob));
  return py::make_tuple(t.token, t.logprob, top);
}

py::dict usage_dict(const GenerationResult& r) {
  py::dict usage;
  usage["prompt_tokens"] = r.prompt_tokens;
  usage["completion_tokens"] = r.completion_tokens;
  usage["total_tokens"] = r.prompt_tokens + r.completion_tokens;
  py::dict details;
  details["cached_tokens"] = r.prompt_cached_tokens;  // OpenAI's name for prompt tokens reused from the KV cache
  usage["prompt_tokens_details"] = details;
  return usage;
}

}  // namespace

void register_model(py::module_& m) {
  g_main_thread = py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
  py::class_<Model, std::shared_ptr<Model>>(m, "Model")
      .def(py::init([](const PyGGUFReader& reader, bool interleave_weights, const std::string& layout_cache_dir,
                       const std::optional<std::string>& isa) {
             std::shared_ptr<GGUFFile> file = reader.shared();
             py::gil_scoped_release release;
             ModelOptions options;
             options.interleave_weights = interleave_weights;
             options.layout_cache_dir = layout_cache_dir;
             options.isa = isa.value_or("");
             return std::make_shared<Model>(file, options);
           }),
           py::arg("reader"), py::arg("interleave_weights") = true, py::arg("layout_cache_dir") = "",
           py::arg("isa") = py::none())
      .def(
          "tokenize", [](const Model& model, py::handle prompt) {
            const Prompt p = prompt_arg(prompt);
            py::gil_scoped_release release;
            return model.tokenize(p);
          },
          py::arg("prompt"), "The ids generation evaluates for a prompt (str, token ids or Prompt)")
      .def_property_readonly("tokenizer", [](const Model& model) { return model.tokenizer_ptr(); })
      .def_property_readonly("name", [](const Model& model) { return model.chat().name; })
      .def_property_readonly("chat_template", [](const Model& model) { return model.chat().template_text; })
      .def_property_readonly("bos_text", [](const Model& model) { return model.chat().bos_text; })
      .def_property_readonly("eos_text", [](const Model& model) { return model.chat().eos_text; })
      .def_property_readonly("isa", [](const Model& model) { return std::string(model.weights().kernels().isa); })
      .def_property_readonly("interleaved_bytes", [](const Model& model) { return model.weights().interleaved_bytes(); })
      .def_property_readonly("layout_cache_path", [](const Model& model) { return model.weights().layout_cache_path(); })
      .def_property_readonly("hparams", [](const Model& model) { return hparams_dict(model.weights().hparams()); })
      .def_property_readonly("output_tied", [](const Model& model) { return model.weights().output_tied(); })
      .def_property_readonly("weight_bytes_per_token", [](const Model& model) { return model.weights().weight_bytes_per_token(); });

  m.def(
      "session_file_kv_type",
      [](const std::string& path) { return std::string(kv_type_name(session_file_kv_type(path))); },
      py::arg("path"));

  py::class_<Prompt>(m, "Prompt")
      .def_static("from_ids", [](py::handle ids) { return Prompt::from_ids(token_ids_arg(ids, "token ids")); }, py::arg("ids"),
                  "Token ids (a sequence of ints; str and bytes are refused)")
      .def_readonly("ids", &Prompt::ids)
      .def_readonly("is_text", &Prompt::is_text)
      .def_static(
          "from_text",
          [](const py::bytes& text, bool parse_special, const std::vector<std::pair<size_t, size_t>>& literal) {
            std::vector<ByteRange> ranges;
            ranges.reserve(literal.size());
            for (const auto& [begin, end] : literal) ranges.push_back({begin, end});
            return Prompt::from_text(std::string(text), parse_special, std::move(ranges));
          },
          py::arg("text"), py::arg("parse_special") = false, py::arg("literal") = std::vector<std::pair<size_t, size_t>>{},
          "UTF-8 text; parse_special: control-token text becomes control tokens, except inside the literal byte ranges");

  py::class_<GenerateParams>(m, "GenerateParams")
      .def(py::init(&make_params), py::kw_only(), py::arg("max_tokens") = 256, py::arg("temperature") = 0.8,
           py::arg("top_k") = 40, py::arg("top_p") = 0.95, py::arg("min_p") = 0.05, py::arg("repeat_penalty") = 1.0,
           py::arg("frequency_penalty") = 0.0, py::arg("presence_penalty") = 0.0, py::arg("penalty_last_n") = 64,
           py::arg("seed") = py::none(), py::arg("stop") = py::none(), py::arg("ignore_eos") = false,
           py::arg("logits_mask") = py::none(), py::arg("speculative") = py::none(), py::arg("draft_max") = kMaxDraft,
           py::arg("top_logprobs") = py::none())
      .def_property_readonly("max_tokens", [](const GenerateParams& p) { return p.max_tokens; })
      .def_property_readonly("temperature", [](const GenerateParams& p) { return p.sampling.temperature; })
      .def_property_readonly("top_k", [](const GenerateParams& p) { return p.sampling.top_k; })
      .def_property_readonly("top_p", [](const GenerateParams& p) { return p.sampling.top_p; })
      .def_property_readonly("min_p", [](const GenerateParams& p) { return p.sampling.min_p; })
      .def_property_readonly("repeat_penalty", [](const GenerateParams& p) { return p.sampling.repeat_penalty; })
      .def_property_readonly("frequency_penalty", [](const GenerateParams& p) { return p.sampling.frequency_penalty; })
      .def_property_readonly("presence_penalty", [](const GenerateParams& p) { return p.sampling.presence_penalty; })
      .def_property_readonly("penalty_last_n", [](const GenerateParams& p) { return p.sampling.penalty_last_n; })
      .def_property_readonly("seed", [](const GenerateParams& p) { return p.sampling.seed; })
      .def_property_readonly("stop", [](const GenerateParams& p) { return p.stop; })
      .def_property_readonly("ignore_eos", [](const GenerateParams& p) { return p.ignore_eos; })
      .def_property_readonly("has_logits_mask", [](const GenerateParams& p) { return static_cast<bool>(p.logits_mask); })
      .def_property_readonly("speculative", [](const GenerateParams& p) -> py::object {
        switch (p.speculation.source) {
          case Speculation::Source::PromptLookup: return py::str("lookup");
          case Speculation::Source::DraftModel: return py::cast(std::const_pointer_cast<Model>(p.speculation.draft_model));
          default: return py::none();
        }
      })
      .def_property_readonly("draft_max", [](const GenerateParams& p) { return p.speculation.max_draft; })
      .def_property_readonly("top_logprobs", [](const GenerateParams& p) -> py::object {
        return p.top_logprobs < 0 ? py::object(py::none()) : py::object(py::int_(p.top_logprobs));
      });

  py::class_<GenerationResult>(m, "GenerationResult")
      .def_readonly("finish_reason", &GenerationResult::finish_reason)
      .def_readonly("prompt_tokens", &GenerationResult::prompt_tokens)
      .def_readonly("prompt_cached_tokens", &GenerationResult::prompt_cached_tokens)
      .def_readonly("completion_tokens", &GenerationResult::completion_tokens)
      .def_readonly("tokens", &GenerationResult::tokens)
      .def_readonly("draft_tokens", &GenerationResult::draft_tokens, "Speculative decoding: drafted tokens checked")
      .def_readonly("accepted_draft_tokens", &GenerationResult::accepted_draft_tokens, "... and kept")
      .def_property_readonly("usage", &usage_dict, "OpenAI's usage object");

  py::class_<PyGenerator>(m, "Generator")
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
      .def_property_readonly("finished", [](const PyGenerator& g) { return g.generator->finished(); })
      .def_property_readonly(
          "result",
          [](const PyGenerator& g) -> py::object {
            if (!g.generator->finished()) return py::none();
            return py::cast(g.generator->result());
          },
          "The GenerationResult once finished, else None")
      .def_property_readonly("tokens_so_far", [](const PyGenerator& g) { return g.generator->result().tokens; })
      .def(
          "logprobs_since",
          [](const PyGenerator& g, size_t first) {
            const std::vector<TokenLogprob>& all = g.generator->result().logprobs;
            py::list out;
            for (size_t i = first; i < all.size(); ++i) out.append(logprob_tuple(all[i]));
            return out;
          },
          py::arg("first") = 0,
          "(token, logprob, [(token, logprob), ...]) of each generated token from index `first` (top_logprobs set)");

  py::class_<SessionBatcher, std::shared_ptr<SessionBatcher>>(m, "SessionBatcher")
      .def(py::init([](std::shared_ptr<Model> model, py::object n_threads, py::object max_rows, py::object prefill_chunk,
                       py::object max_wait_us) {
             BatcherConfig config;
             config.max_rows = int_arg(max_rows, "max_rows", 1, INT32_MAX);
             config.prefill_chunk = int_arg(prefill_chunk, "prefill_chunk", 1, INT32_MAX);
             config.max_wait_us = int_arg(max_wait_us, "max_wait_us", 0, INT32_MAX);
             const int threads = n_threads.is_none() ? 0 : static_cast<int>(int_arg(n_threads, "n_threads", 1, 1024));
             py::gil_scoped_release release;
             return std::make_shared<SessionBatcher>(std::move(model), threads, config);
           }),
           py::arg("model"), py::arg("n_threads") = py::none(), py::arg("max_rows") = 512, py::arg("prefill_chunk") = 64,
           py::arg("max_wait_us") = 2000,
           "Runs the forward passes of the sessions attached to it (Session.set_batcher) together: one pass per step")
      .def_property_readonly("n_threads", &SessionBatcher::n_threads)
      .def_property_readonly("prefill_chunk", [](const SessionBatcher& b) { return b.config().prefill_chunk; })
      .def("stats", [](const SessionBatcher& b) {
        const SessionBatcher::Stats st = b.stats();
        py::dict d;
        d["passes"] = st.passes;
        d["batched_passes"] = st.batched_passes;
        d["rows"] = st.rows;
        d["max_sessions"] = st.max_sessions;
        return d;
      });

  py::class_<Session, std::shared_ptr<Session>>(m, "Session")
      .def(py::init([](std::shared_ptr<Model> model, py::object n_ctx, py::object n_batch, py::object n_threads,
                       bool float_activations, py::object kv_type) {
             SessionConfig config;
             config.float_activations = float_activations;
             if (!PyUnicode_Check(kv_type.ptr())) throw py::value_error("kv_type must be 'f16' or 'q8_0', got " + std::string(py::repr(kv_type)));
             config.kv_type = kv_type_from_name(kv_type.cast<std::string>());
             config.n_ctx = n_ctx.is_none() ? 0 : int_arg(n_ctx, "n_ctx", 1, INT32_MAX);
             config.n_batch = int_arg(n_batch, "n_batch", 1, INT32_MAX);
             config.n_threads = n_threads.is_none() ? 0 : static_cast<int>(int_arg(n_threads, "n_threads", 1, 1024));
             std::shared_ptr<Session> session;
             {
               py::gil_scoped_release release;
               session = std::make_shared<Session>(std::move(model), config);
             }
             session->set_interrupt_check(signal_check());
             return session;
           }),
           py::arg("model"), py::arg("n_ctx") = py::none(), py::arg("n_batch") = 512, py::arg("n_threads") = py::none(),
           py::arg("float_activations") = false, py::arg("kv_type") = "f16")
      .def(
          "generate",
          [](std::shared_ptr<Session> s, py::handle prompt, const GenerateParams& params) {
            const Prompt p = prompt_arg(prompt);
            auto g = std::make_unique<PyGenerator>();
            g->session = s;
            {
              py::gil_scoped_release release;  // tokenizing a long text
              g->generator = s->generate(p, params);
            }
            return g;
          },
          py::arg("prompt"), py::arg("params"),
          "The decode loop over a prompt (str, token ids or Prompt); checks everything before any work")
      .def("set_tokens",
           [](Session& s, py::handle ids) {
             const std::vector<int32_t> tokens = token_ids_arg(ids);
             py::gil_scoped_release release;
             return s.set_tokens(tokens);
           })
      .def("append",
           [](Session& s, py::handle id) {
             const int32_t token = static_cast<int32_t>(int_arg(id, "token id", INT32_MIN, INT32_MAX));
             py::gil_scoped_release release;
             s.append(token);
           })
      .def("append_batch",
           [](Session& s, py::handle ids) {
             const std::vector<int32_t> tokens = token_ids_arg(ids);
             if (tokens.empty()) throw py::value_error("append_batch needs at least one token id");
             py::array_t<float> out({static_cast<py::ssize_t>(tokens.size()), static_cast<py::ssize_t>(s.n_vocab())});
             float* dst = out.mutable_data();
             py::gil_scoped_release release;
             s.append_batch(tokens.data(), static_cast<int64_t>(tokens.size()));
             std::copy(s.batch_logits(0), s.batch_logits(0) + tokens.size() * static_cast<size_t>(s.n_vocab()), dst);
             return out;
           },
           "Speculative decoding's verification step: the ids in one batched pass; every position's logits")
      .def("keep_batch_prefix",
           [](Session& s, py::handle n) {
             const int64_t kept = int_arg(n, "n_kept", INT32_MIN, INT32_MAX);
             py::gil_scoped_release release;
             s.keep_batch_prefix(kept);
           })
      .def("last_logits",
           [](const Session& s) {
             py::array_t<float> out(s.n_vocab());
             std::copy(s.logits(), s.logits() + s.n_vocab(), out.mutable_data());
             return out;
           })
      .def("evaluate_all",
           [](Session& s, py::handle ids) {
             const std::vector<int32_t> tokens = token_ids_arg(ids);
             py::array_t<float> out({static_cast<py::ssize_t>(tokens.size()), static_cast<py::ssize_t>(s.n_vocab())});
             float* dst = out.mutable_data();
             py::gil_scoped_release release;
             s.evaluate_all(tokens, dst);
             return out;
           })
      .def(
          "embed",
          [](Session& s, py::handle texts, py::handle pooling, bool normalize) {
            if (PyUnicode_Check(texts.ptr()) || !PySequence_Check(texts.ptr())) {
              throw py::type_error("texts must be a sequence of token-id sequences");
            }
            std::vector<std::vector<int32_t>> ids;
            for (py::handle text : py::reinterpret_borrow<py::sequence>(texts)) ids.push_back(token_ids_arg(text, "text token ids"));
            const Pooling p = pooling_arg(pooling);
            py::array_t<float> out({static_cast<py::ssize_t>(ids.size()), static_cast<py::ssize_t>(s.n_embd())});
            float* dst = out.mutable_data();
            py::gil_scoped_release release;
            s.embed(ids, p, normalize, dst);
            return out;
          },
          py::arg("texts"), py::arg("pooling") = "mean", py::arg("normalize") = true,
          "Pooled hidden states after the output norm, float32 [len(texts)][n_embd]; each text evaluated on its own")
      .def("set_batcher",
           [](Session& s, std::shared_ptr<SessionBatcher> batcher) {
             py::gil_scoped_release release;
             s.set_batcher(std::move(batcher));
           },
           py::arg("batcher").none(true), "Runs this session's passes in the batcher's (None: on its own)")
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
      .def_property_readonly("batcher", &Session::batcher)
      .def_property_readonly("n_ctx", &Session::n_ctx)
      .def_property_readonly("n_threads", &Session::n_threads)
      .def_property_readonly("kv_cache_bytes", &Session::kv_cache_bytes)
      .def_property_readonly("kv_type", [](const Session& s) { return std::string(kv_type_name(s.kv_type())); })
      .def("reset", [](Session& s) {
        Session::Use use(s);
        s.reset();
      });

  m.def("default_thread_count", &default_thread_count);
}

}  // namespace ple::python
