// ple.system_info(): which kernel path this process chose, and with what.
#include <pybind11/stl.h>

#include "core/thread_pool.h"
#include "kernels/kernel_table.h"
#include "python/bindings.h"

namespace py = pybind11;

namespace ple::python {

void register_system(py::module_& m) {
  m.def("kernel_info", [] {
    const kernels::KernelTable& t = kernels::active_kernels();
    py::dict dots;
    for (uint32_t id = 0; id < kGGMLTypeCount; ++id) {
      const GGMLTypeInfo* info = ggml_type_info(id);
      if (info != nullptr && t.weights[id].dot_name != nullptr) dots[py::str(info->name)] = t.weights[id].dot_name;
    }
    py::dict out;
    out["isa"] = t.isa;
    out["dot_kernels"] = dots;
    out["default_threads"] = default_thread_count();
    return out;
  });
}

}  // namespace ple::python
