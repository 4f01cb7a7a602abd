// C++ errors -> Python exceptions, translated once here for every binding.
#include <Python.h>

#include "core/error.h"
#include "python/bindings.h"

namespace py = pybind11;

namespace ple::python {

void register_errors(py::module_& m) {
  // GGUFError is a ValueError; UnsupportedModelError is a GGUFError (the file is valid, but
  // uses something this build cannot run).
  static py::exception<FormatError> gguf_error(m, "GGUFError", PyExc_ValueError);
  static py::exception<UnsupportedError> unsupported(m, "UnsupportedModelError", gguf_error.ptr());
  static py::exception<ContextOverflowError> overflow(m, "ContextOverflowError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const UnsupportedError& e) {
      PyErr_SetString(unsupported.ptr(), e.what());
    } catch (const FormatError& e) {
      PyErr_SetString(gguf_error.ptr(), e.what());
    } catch (const ContextOverflowError& e) {
      PyErr_SetString(overflow.ptr(), e.what());
    } catch (const IoError& e) {
      // OSError(errno, message) picks the subclass (FileNotFoundError, IsADirectoryError, ...).
      py::object args = py::make_tuple(e.errno_value(), e.what());
      PyErr_SetObject(PyExc_OSError, args.ptr());
    } catch (const InvalidArgument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const ConcurrentUseError& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    } catch (const ResourceError& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    }
  });
}

}  // namespace ple::python
