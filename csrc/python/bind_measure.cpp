// Measurements the CLI and pyllama_edge.evaluate print: a model file's memory needs and timed
// prefill / decode runs. The numbers are computed here, in one place; Python only formats them.
#include <pybind11/stl.h>

#include "model/bench.h"
#include "model/kv_cache.h"
#include "model/memory_estimate.h"
#include "python/bindings.h"
#include "python/py_args.h"
#include "python/py_gguf.h"

namespace py = pybind11;

namespace ple::python {

void register_measure(py::module_& m) {
  m.def(
      "memory_estimate",
      [](const PyGGUFReader& reader, int64_t n_ctx, const std::string& kv_type) -> py::object {
        const std::optional<MemoryEstimate> e = estimate_memory(reader.file(), n_ctx, kv_type_from_name(kv_type));
        if (!e) return py::none();
        py::dict out;
        out["n_ctx"] = e->n_ctx;
        out["weight_bytes"] = e->weight_bytes;
        out["kv_cache_bytes"] = e->kv_cache_bytes ? py::cast(*e->kv_cache_bytes) : py::none();
        return std::move(out);
      },
      py::arg("reader"), py::arg("n_ctx") = 0, py::arg("kv_type") = "f16");
  m.def(
      "bench_evaluation",
      [](Session& session, py::handle ids, bool decode) {
        const std::vector<int32_t> tokens = token_ids_arg(ids);
        BenchTiming t;
        {
          py::gil_scoped_release release;
          t = bench_evaluation(session, tokens, decode);
        }
        return py::make_tuple(t.seconds, t.logits_finite);
      },
      py::arg("session"), py::arg("tokens"), py::arg("decode"));
}

}  // namespace ple::python
