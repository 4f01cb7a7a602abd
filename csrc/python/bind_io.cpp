// Files the Python layer writes (quantized models, downloaded models) go through the core's
// AtomicFileWriter, so every file the package writes follows one rule (io/atomic_file.h).
#include <memory>

#include "core/error.h"
#include "io/atomic_file.h"
#include "python/bindings.h"

namespace py = pybind11;

namespace ple::python {

void register_io(py::module_& m) {
  py::class_<AtomicFileWriter>(m, "AtomicFileWriter",
                               "Writes `path` through a fresh temporary file beside it, renamed over it by commit(); "
                               "discard() (or dropping the writer uncommitted) removes the temporary.")
      .def(py::init([](const std::string& path) { return std::make_unique<AtomicFileWriter>(path); }), py::arg("path"))
      .def(
          "write",
          [](AtomicFileWriter& w, const py::buffer& data) {
            const py::buffer_info info = data.request();
            if (!PyBuffer_IsContiguous(info.view(), 'C')) throw InvalidArgument("write() needs a contiguous buffer");
            const size_t n = static_cast<size_t>(info.size) * static_cast<size_t>(info.itemsize);
            py::gil_scoped_release release;
            w.write(info.ptr, n);
          },
          py::arg("data"))
      .def(
          "commit",
          [](AtomicFileWriter& w) {
            py::gil_scoped_release release;
            w.commit();
          })
      .def("discard", &AtomicFileWriter::discard)
      .def_property_readonly("temporary_path", &AtomicFileWriter::temporary_path);
}

}  // namespace ple::python
