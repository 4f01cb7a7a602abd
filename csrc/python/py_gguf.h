// The Python-side owner of a parsed GGUF file, shared by the GGUF, tokenizer and model bindings.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/gguf.h"
#include "kernels/kernel_table.h"

namespace ple::python {

namespace py = pybind11;

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
  void close() { file_.reset(); }
  bool closed() const { return !file_; }
  // The parsed file, for other bindings (model, tokenizer); throws when closed.
  std::shared_ptr<GGUFFile> shared() const {
    file();
    return file_;
  }

  py::dict metadata() const;
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
    file().check_unchanged();  // a truncated file would fault (SIGBUS) on the tensor's pages
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
    // Every table dequantizes with the scalar twins (not on the hot path).
    const kernels::DequantizeRowFn fn = kernels::reference_kernels().for_type(t.type).dequantize;
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

}  // namespace ple::python
