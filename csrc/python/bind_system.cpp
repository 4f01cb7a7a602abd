// ple.system_info(): which kernel path this process chose, and with what.
#include <pybind11/stl.h>

#include "core/cpu_count.h"
#include "io/layout_cache.h"
#include "kernels/cpu_features.h"
#include "kernels/kernel_table.h"
#include "python/bindings.h"

namespace py = pybind11;

namespace ple::python {

void register_system(py::module_& m) {
  // What a layout cache file says about itself (`pyllama-edge cache list/clean`); None when it is
  // not an intact layout file of this version.
  m.def("layout_cache_info", [](const std::string& path) -> py::object {
    LayoutCacheInfo info;
    {
      py::gil_scoped_release release;
      info = read_layout_cache_info(path);
    }
    if (!info.readable) return py::none();
    py::dict out;
    out["model_path"] = info.model_path;
    out["model_size"] = info.model_size;
    out["data_bytes"] = info.data_bytes;
    out["model_present"] = info.model_present;
    return out;
  });
  m.def("kernel_info", [] {
    const kernels::KernelTable& t = kernels::active_kernels();
    py::dict dots, tiles;
    for (uint32_t id = 0; id < kGGMLTypeCount; ++id) {
      const GGMLTypeInfo* info = ggml_type_info(id);
      if (info == nullptr) continue;
      const kernels::WeightKernels& w = t.weights[id];
      if (w.dot_name != nullptr) dots[py::str(info->name)] = w.dot_name;
      py::list names;  // decode tile, prefill tile, prefill panel, interleaved GEMV, where the table has them
      for (const kernels::TileKernel* tile : {&w.decode_tile, &w.prefill_tile}) {
        if (tile->fn != nullptr) names.append(tile->name);
      }
      if (w.prefill_panel.gemm != nullptr) names.append(w.prefill_panel.name);
      if (w.packed.gemv != nullptr) names.append(w.packed.name);
      if (!names.empty()) tiles[py::str(info->name)] = names;
    }
    kernels::CpuFeatureEntry entries[32];
    const int n_features = kernels::cpu_feature_list(kernels::cpu_features(), entries, 32);
    py::dict features;
    for (int i = 0; i < n_features && i < 32; ++i) features[py::str(entries[i].name)] = entries[i].value;
    const auto names = [](const char* const* list, int count) {
      py::list out;
      for (int i = 0; i < count; ++i) out.append(list[i]);
      return out;
    };
    int n_usable = 0, n_built = 0;
    const char* const* usable = kernels::usable_isas(&n_usable);
    const char* const* built = kernels::built_isas(&n_built);
    const char* cap = kernels::isa_cap();
    py::dict out;
    out["isa"] = t.isa;
    out["available_isas"] = names(usable, n_usable);  // built and supported by this CPU
    out["built_isas"] = names(built, n_built);
    out["isa_cap"] = cap != nullptr ? py::object(py::str(cap)) : py::object(py::none());  // PYLLAMA_EDGE_ISA
    out["cpu_features"] = features;
    out["dot_kernels"] = dots;
    out["tile_kernels"] = tiles;  // matmul tiles and panels per weight type (x86 AVX2, ARM i8mm)
    out["attention_kernels"] = py::make_tuple(t.dot_f16_f32_name, t.axpy_f16_name, t.axpy_q8_0_name);
    const CpuCounts counts = cpu_counts();
    py::dict cpus;
    cpus["logical"] = counts.logical;
    cpus["physical"] = counts.physical;
    // Apple silicon's performance cores; None where the CPU is not hybrid (or says nothing).
    cpus["performance"] = counts.performance > 0 ? py::object(py::int_(counts.performance)) : py::object(py::none());
    out["cpu_counts"] = cpus;
    out["default_threads"] = default_thread_count_for(counts);
    return out;
  });
}

}  // namespace ple::python
