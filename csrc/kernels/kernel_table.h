// The kernel table: one immutable set of leaf functions chosen once per process for this CPU.
// Declarations only. Kernels never allocate, throw, log or start threads; callers (csrc/ops)
// guarantee the sizes: n is a count of elements and a multiple of the type's block size.
#pragma once
#include <cstdint>

#include "quant/ggml_types.h"

namespace ple::kernels {

// blocks of some type -> n floats
using DequantizeRowFn = void (*)(const void* blocks, float* out, int64_t n);
// n floats -> blocks of an activation type (Q8_0, Q8_1, Q8_K)
using QuantizeRowFn = void (*)(const float* x, void* blocks, int64_t n);
// dot of n elements: weight blocks (w) against activation blocks (a) of the paired type
using DotFn = float (*)(int64_t n, const void* w, const void* a);

struct WeightKernels {
  DequantizeRowFn dequantize = nullptr;
  DotFn dot = nullptr;                   // nullptr: not usable as a matmul weight
  GGMLType activation_type = GGMLType::F32;  // what `dot` expects for `a`
  const char* dot_name = nullptr;        // e.g. "qdot_q4_0_q8_0__avx2", for system_info()
};

struct KernelTable {
  const char* isa = "scalar";
  WeightKernels weights[kGGMLTypeCount];    // indexed by type id
  QuantizeRowFn quantize[kGGMLTypeCount] = {};  // activation types only
  // Weight types (offline model quantization): quality first, not on the inference path.
  QuantizeRowFn quantize_weight[kGGMLTypeCount] = {};

  const WeightKernels& for_type(GGMLType t) const { return weights[static_cast<uint32_t>(t)]; }
  QuantizeRowFn quantizer(GGMLType t) const { return quantize[static_cast<uint32_t>(t)]; }
  QuantizeRowFn weight_quantizer(GGMLType t) const { return quantize_weight[static_cast<uint32_t>(t)]; }
};

// The scalar twins: the specification every SIMD path is tested against.
const KernelTable& reference_kernels();
// Best table this CPU supports (and PYLLAMA_EDGE_ISA allows); chosen on first call.
const KernelTable& active_kernels();

}  // namespace ple::kernels
