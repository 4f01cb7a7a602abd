// Block-format conversions for Python: ple.quant.dequantize / quantize / dot / dot_rows, on the
// active kernels or on those of a named ISA (isa="scalar", "avx2", "avx512", "neon", "dotprod", "i8mm";
// reference=True is isa="scalar").
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "core/cpu_count.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/kernel_table.h"
#include "quant/weight_quantizer.h"
#include "python/bindings.h"

namespace py = pybind11;

namespace ple::python {
namespace {

const GGMLTypeInfo& type_by_name(const std::string& name, GGMLType* type) {
  if (!ggml_type_from_name(name, type)) throw InvalidArgument("unknown tensor type '" + name + "'");
  return ggml_type_info(*type);
}

using Isa = std::optional<std::string>;

const kernels::KernelTable& table_for(bool reference, const Isa& isa) {
  if (!isa) return reference ? kernels::reference_kernels() : kernels::active_kernels();
  const kernels::KernelTable* t = kernels::kernel_table_for(isa->c_str());
  if (reference && t != &kernels::reference_kernels()) {
    throw InvalidArgument("reference=True selects the scalar kernels, isa='" + *isa + "' asks for others");
  }
  if (t == nullptr) {
    int count = 0;
    const char* const* names = kernels::usable_isas(&count);
    std::string usable;
    for (int i = 0; i < count; ++i) usable += std::string(i ? ", " : "") + names[i];
    throw InvalidArgument("kernel ISA '" + *isa + "' is not usable on this machine (usable: " + usable + ")");
  }
  return *t;
}

// Kernels read blocks through uint16_t/float fields, so their inputs must be 4-byte aligned; a
// numpy slice such as raw[1:] is not. Misaligned inputs are copied (into `storage`), others used as is.
const void* aligned_input(const void* p, size_t nbytes, std::vector<float>& storage) {
  if (reinterpret_cast<uintptr_t>(p) % alignof(float) == 0) return p;
  storage.resize((nbytes + sizeof(float) - 1) / sizeof(float));
  std::memcpy(storage.data(), p, nbytes);
  return storage.data();
}

py::array_t<float> dequantize(py::array_t<uint8_t, py::array::c_style> raw, const std::string& type_name, int64_t n,
                              bool reference, const Isa& isa) {
  GGMLType type;
  const GGMLTypeInfo& info = type_by_name(type_name, &type);
  const kernels::DequantizeRowFn fn = table_for(reference, isa).for_type(type).dequantize;
  if (fn == nullptr) throw UnsupportedError(std::string("cannot dequantize type ") + info.name);
  if (n < 0 || n % info.block_size != 0) {
    throw InvalidArgument("n = " + std::to_string(n) + " is not a non-negative multiple of the " + info.name +
                          " block size " + std::to_string(info.block_size));
  }
  const uint64_t need = static_cast<uint64_t>(n) / info.block_size * info.type_size;
  if (static_cast<uint64_t>(raw.size()) != need) {
    throw InvalidArgument(std::to_string(n) + " " + info.name + " values take " + std::to_string(need) + " bytes, got " +
                          std::to_string(raw.size()));
  }
  py::array_t<float> out(n);
  float* dst = out.mutable_data();
  {
    py::gil_scoped_release release;
    std::vector<float> copy;
    fn(aligned_input(raw.data(), static_cast<size_t>(need), copy), dst, n);
  }
  return out;
}

py::array_t<uint8_t> quantize(py::array_t<float, py::array::c_style | py::array::forcecast> x, const std::string& type_name,
                              bool reference, const Isa& isa) {
  GGMLType type;
  const GGMLTypeInfo& info = type_by_name(type_name, &type);
  const kernels::QuantizeRowFn fn = table_for(reference, isa).quantizer(type);
  if (fn == nullptr) throw UnsupportedError(std::string("no quantizer for type ") + info.name);
  const int64_t n = static_cast<int64_t>(x.size());
  if (n % info.block_size != 0) {
    throw InvalidArgument("length " + std::to_string(n) + " is not a multiple of the " + info.name + " block size " +
                          std::to_string(info.block_size));
  }
  py::array_t<uint8_t> out(static_cast<py::ssize_t>(n / info.block_size * info.type_size));
  uint8_t* dst = out.mutable_data();  // freshly allocated by numpy: aligned
  {
    py::gil_scoped_release release;
    std::vector<float> copy;
    fn(static_cast<const float*>(aligned_input(x.data(), static_cast<size_t>(n) * sizeof(float), copy)), dst, n);
  }
  return out;
}

// Rows of float32 [n_rows, n_cols] -> uint8 [n_rows, n_cols / block * block_bytes] of a weight
// type, rows split over n_threads (0: default) with the GIL released. The model quantizer calls
// this once per tensor.
py::array_t<uint8_t> quantize_weights(py::array_t<float, py::array::c_style | py::array::forcecast> x,
                                      const std::string& type_name, int n_threads) {
  GGMLType type;
  const GGMLTypeInfo& info = type_by_name(type_name, &type);
  const WeightQuantizeFn fn = weight_quantizer(type);
  if (fn == nullptr) throw UnsupportedError(std::string("no weight quantizer for type ") + info.name);
  if (x.ndim() != 2) throw InvalidArgument("quantize_weights expects a 2-D [rows, cols] array");
  const int64_t rows = x.shape(0), cols = x.shape(1);
  if (cols % info.block_size != 0) {
    throw InvalidArgument("row length " + std::to_string(cols) + " is not a multiple of the " + info.name +
                          " block size " + std::to_string(info.block_size));
  }
  const int64_t row_bytes = cols / info.block_size * info.type_size;
  py::array_t<uint8_t> out({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(row_bytes)});
  uint8_t* dst = out.mutable_data();
  const float* src = x.data();
  {
    py::gil_scoped_release release;
    const int64_t want = n_threads > 0 ? n_threads : default_thread_count();
    ThreadPool pool(static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(want, rows))));
    pool.parallel_for(rows, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) fn(src + r * cols, dst + r * row_bytes, cols);
    });
  }
  return out;
}

// Checks a dot's operands: `row_bytes` weight bytes per row and the activation array `a`, of the
// type the kernel reads. Returns the activation byte count.
uint64_t check_dot_operands(const GGMLTypeInfo& info, const kernels::WeightKernels& k, uint64_t row_bytes, const py::array& a,
                            int64_t n) {
  if (k.dot == nullptr) throw UnsupportedError(std::string("no dot product for weight type ") + info.name);
  const GGMLTypeInfo& act = ggml_type_info(k.activation_type);
  if (n < 0 || n % info.block_size != 0 || n % act.block_size != 0) {
    throw InvalidArgument("n = " + std::to_string(n) + " does not fit the block sizes of " + info.name + " x " + act.name);
  }
  const uint64_t w_need = static_cast<uint64_t>(n) / info.block_size * info.type_size;
  const uint64_t a_need = static_cast<uint64_t>(n) / act.block_size * act.type_size;
  if (row_bytes != w_need || static_cast<uint64_t>(a.nbytes()) != a_need) {
    throw InvalidArgument(std::string("dot of ") + std::to_string(n) + " elements needs " + std::to_string(w_need) + " weight bytes (" +
                          info.name + ") and " + std::to_string(a_need) + " activation bytes (" + act.name + ")");
  }
  if (!(a.flags() & py::array::c_style)) throw InvalidArgument("activation array must be C-contiguous");
  // The bytes are reinterpreted, so the element type must be the one the kernel reads.
  const bool float_act = k.activation_type == GGMLType::F32;
  const py::dtype dt = a.dtype();
  if (float_act ? (dt.kind() != 'f' || dt.itemsize() != 4) : (dt.kind() != 'u' || dt.itemsize() != 1)) {
    throw InvalidArgument(std::string("activations for ") + info.name + " weights must be " +
                          (float_act ? "float32 values" : std::string("uint8 bytes of ") + act.name));
  }
  return a_need;
}

float dot(py::array_t<uint8_t, py::array::c_style> w, const std::string& type_name, py::array a, int64_t n, bool reference,
          const Isa& isa) {
  GGMLType type;
  const GGMLTypeInfo& info = type_by_name(type_name, &type);
  const kernels::WeightKernels& k = table_for(reference, isa).for_type(type);
  const uint64_t a_need = check_dot_operands(info, k, static_cast<uint64_t>(w.size()), a, n);
  std::vector<float> w_copy, a_copy;
  return k.dot(n, aligned_input(w.data(), static_cast<size_t>(w.size()), w_copy),
               aligned_input(a.data(), static_cast<size_t>(a_need), a_copy));
}

// y[r] = dot of weight row r (of a 2-D uint8 array, one row of blocks each) with a, on one
// thread without the GIL: a matrix-vector product through the dot kernel alone, for benchmarks
// and tests of whole row sets.
py::array_t<float> dot_rows(py::array_t<uint8_t, py::array::c_style> w, const std::string& type_name, py::array a, int64_t n,
                            bool reference, const Isa& isa) {
  GGMLType type;
  const GGMLTypeInfo& info = type_by_name(type_name, &type);
  const kernels::WeightKernels& k = table_for(reference, isa).for_type(type);
  if (w.ndim() != 2) throw InvalidArgument("weights must be a 2-D uint8 array, one row of blocks per row");
  const auto rows = static_cast<int64_t>(w.shape(0));
  const auto row_bytes = static_cast<uint64_t>(w.shape(1));
  const uint64_t a_need = check_dot_operands(info, k, row_bytes, a, n);
  py::array_t<float> out(static_cast<py::ssize_t>(rows));
  float* y = out.mutable_data();
  const uint8_t* w_data = w.data();
  {
    py::gil_scoped_release release;
    std::vector<float> w_copy, a_copy;
    // Row starts are 4-byte aligned when the array and its row length are; else rows are copied.
    const bool aligned = reinterpret_cast<uintptr_t>(w_data) % alignof(float) == 0 && row_bytes % alignof(float) == 0;
    const void* act = aligned_input(a.data(), static_cast<size_t>(a_need), a_copy);
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t* row = w_data + static_cast<uint64_t>(r) * row_bytes;
      y[r] = k.dot(n, aligned ? row : aligned_input(row, static_cast<size_t>(row_bytes), w_copy), act);
    }
  }
  return out;
}

}  // namespace

void register_quant(py::module_& m) {
  py::module_ q = m.def_submodule("quant", "block-format conversions");
  q.def("quantize_weights", &quantize_weights, py::arg("x"), py::arg("type_name"), py::arg("n_threads") = 0,
        "Quantize float32 rows [n_rows, n_cols] to a weight type; returns uint8 [n_rows, row_bytes].");
  q.def("dequantize", &dequantize, py::arg("raw"), py::arg("type_name"), py::arg("n"), py::arg("reference") = false,
        py::arg("isa") = py::none());
  q.def("quantize", &quantize, py::arg("x"), py::arg("type_name"), py::arg("reference") = false, py::arg("isa") = py::none());
  q.def("dot", &dot, py::arg("w"), py::arg("type_name"), py::arg("a"), py::arg("n"), py::arg("reference") = false,
        py::arg("isa") = py::none(),
        "Dot of n elements: weight blocks w against activation bytes a (the activation type paired with the weight type).");
  q.def("dot_rows", &dot_rows, py::arg("w"), py::arg("type_name"), py::arg("a"), py::arg("n"), py::arg("reference") = false,
        py::arg("isa") = py::none(), "dot() of every row of the 2-D weight array w with a, on one thread without the GIL.");
  q.def("activation_type", [](const std::string& type_name) {
    GGMLType type;
    type_by_name(type_name, &type);
    return std::string(ggml_type_name(kernels::reference_kernels().for_type(type).activation_type));
  });
  q.def("block_geometry", [](const std::string& type_name) {
    GGMLType type;
    const GGMLTypeInfo& info = type_by_name(type_name, &type);
    return py::make_tuple(info.block_size, info.type_size);
  });
}

}  // namespace ple::python
