// GGUF reader bindings: metadata as Python values, tensors as zero-copy numpy views.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "core/error.h"
#include "io/gguf.h"
#include "kernels/kernel_table.h"
#include "python/bindings.h"

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

// Owns the parsed file; numpy views hold a copy of the shared_ptr, so they stay valid after close().
class PyGGUFReader {
 public:
  explicit PyGGUFReader(const std::string& path) {
    py::gil_scoped_release release;  // parsing a large vocabulary takes a while
    file_ = GGUFFile::open(path);
  }
  const GGUFFile& file() const {
    if (!file_) throw InvalidArgument("GGUF file is closed");
    return *file_;
  }
  std::shared_ptr<GGUFFile> shared() const {
    file();  // throws when closed
    return file_;
  }
  void close() { file_.reset(); }
  bool closed() const { return !file_; }

  py::dict metadata() const {
    py::dict d;
    for (const auto& [key, value] : file().metadata()) d[py::str(key)] = value_to_python(value);
    return d;
  }
  py::list tensor_infos() const {
    py::list out;
    for (const GGUFTensorInfo& t : file().tensors()) {
      py::tuple shape(t.n_dims);
      for (uint32_t d = 0; d < t.n_dims; ++d) shape[d] = t.ne[t.n_dims - 1 - d];  // numpy order
      out.append(py::make_tuple(t.name, shape, ggml_type_name(t.type), t.offset, t.nbytes));
    }
    return out;
  }
  const GGUFTensorInfo& tensor(const std::string& name) const {
    const GGUFTensorInfo* t = file().find_tensor(name);
    if (t == nullptr) throw py::key_error("no tensor named '" + name + "' in " + file().path());
    return *t;
  }
  py::array raw(const std::string& name) const {
    const GGUFTensorInfo& t = tensor(name);
    auto* keep = new std::shared_ptr<GGUFFile>(file_);
    py::capsule owner(keep, [](void* p) { delete static_cast<std::shared_ptr<GGUFFile>*>(p); });
    py::array_t<uint8_t> view({static_cast<py::ssize_t>(t.nbytes)}, {static_cast<py::ssize_t>(1)}, file_->tensor_data(t), owner);
    py::detail::array_proxy(view.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
    return std::move(view);
  }
  py::array_t<float> dequantize(const std::string& name) const {
    const GGUFTensorInfo& t = tensor(name);
    const kernels::DequantizeRowFn fn = kernels::active_kernels().for_type(t.type).dequantize;
    if (fn == nullptr) {
      throw UnsupportedError(std::string("tensor '") + t.name + "' has type " + ggml_type_name(t.type) +
                             ", which this build cannot dequantize");
    }
    std::vector<py::ssize_t> shape(t.n_dims);
    for (uint32_t d = 0; d < t.n_dims; ++d) shape[d] = static_cast<py::ssize_t>(t.ne[t.n_dims - 1 - d]);
    py::array_t<float> out(shape);
    float* dst = out.mutable_data();
    const uint8_t* src = file_->tensor_data(t);
    const int64_t n = static_cast<int64_t>(t.n_elements());
    {
      py::gil_scoped_release release;
      fn(src, dst, n);
    }
    return out;
  }

 private:
  std::shared_ptr<GGUFFile> file_;
};

}  // namespace

std::shared_ptr<GGUFFile> gguf_file_of(py::handle reader) {
  if (!py::isinstance<PyGGUFReader>(reader)) throw py::type_error("expected a _core.GGUFReader");
  return reader.cast<const PyGGUFReader&>().shared();
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
      .def("raw", &PyGGUFReader::raw, py::arg("name"))
      .def("dequantize", &PyGGUFReader::dequantize, py::arg("name"))
      .def("close", &PyGGUFReader::close);
}

}  // namespace ple::python
