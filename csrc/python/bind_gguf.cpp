// GGUF reader bindings: metadata as Python values, tensors as zero-copy numpy views.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "core/error.h"
#include "io/gguf.h"
#include "kernels/kernel_table.h"
#include "python/bindings.h"
#include "python/py_gguf.h"

namespace py = pybind11;

namespace ple::python {
namespace {

py::object string_to_python(std::string_view s) {
  PyObject* obj = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "strict");
  if (obj != nullptr) return py::reinterpret_steal<py::object>(obj);
  PyErr_Clear();  // not UTF-8: hand the bytes over unchanged rather than guess
  return py::bytes(s.data(), s.size());
}

py::object value_to_python(const GGUFValue& v) {
  switch (v.type) {
    case GGUFValueType::BOOL: return py::bool_(v.i != 0);
    case GGUFValueType::U64: return py::int_(v.u);
    case GGUFValueType::F32: case GGUFValueType::F64: return py::float_(v.f);
    case GGUFValueType::STRING: return string_to_python(v.str);
    case GGUFValueType::ARRAY: {
      py::list out(static_cast<size_t>(v.count));
      for (uint64_t k = 0; k < v.count; ++k) {
        py::object item;
        switch (v.element_type) {
          case GGUFValueType::STRING: item = string_to_python(v.strings[k]); break;
          case GGUFValueType::ARRAY: item = value_to_python(v.items[k]); break;
          case GGUFValueType::BOOL: item = py::bool_(v.element_int(k) != 0); break;
          case GGUFValueType::F32: case GGUFValueType::F64: item = py::float_(v.element_float(k)); break;
          case GGUFValueType::U64: item = py::int_(static_cast<uint64_t>(v.element_int(k))); break;
          default: item = py::int_(v.element_int(k)); break;
        }
        out[k] = std::move(item);
      }
      return std::move(out);
    }
    default: return py::int_(v.i);
  }
}

}  // namespace

py::dict PyGGUFReader::metadata() const {
  py::dict d;
  for (const auto& [key, value] : file().metadata()) d[py::str(key)] = value_to_python(value);
  return d;
}

void register_gguf(py::module_& m) {
  py::class_<PyGGUFReader>(m, "GGUFReader")
      .def(py::init<const std::string&>(), py::arg("path"))
      .def_property_readonly("path", [](const PyGGUFReader& r) { return r.file().path(); })
      .def_property_readonly("version", [](const PyGGUFReader& r) { return r.file().version(); })
      .def_property_readonly("alignment", [](const PyGGUFReader& r) { return r.file().alignment(); })
      .def_property_readonly("data_offset", [](const PyGGUFReader& r) { return r.file().data_offset(); })
      .def_property_readonly("file_size", [](const PyGGUFReader& r) { return r.file().file_size(); })
      .def_property_readonly("closed", &PyGGUFReader::closed)
      .def("metadata", &PyGGUFReader::metadata)
      .def("tensor_infos", &PyGGUFReader::tensor_infos)
      // [(key, the pair's raw bytes)] in file order, for the GGUF writer: the only GGUF parser is
      // this one, and copying raw pairs keeps every value's exact type.
      .def("metadata_pairs",
           [](const PyGGUFReader& r) {
             const GGUFFile& f = r.file();
             py::list out;
             for (size_t k = 0; k < f.metadata().size(); ++k) {
               const GGUFFile::ByteSpan span = f.metadata_span(k);
               const char* begin = reinterpret_cast<const char*>(f.bytes() + span.begin);
               out.append(py::make_tuple(f.metadata()[k].first, py::bytes(begin, static_cast<size_t>(span.end - span.begin))));
             }
             return out;
           })
      .def("raw", &PyGGUFReader::raw, py::arg("name"))
      .def("dequantize", &PyGGUFReader::dequantize, py::arg("name"))
      .def("close", &PyGGUFReader::close);
}

}  // namespace ple::python
