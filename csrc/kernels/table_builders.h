// Building blocks of the kernel tables (tables_*.cpp), which dispatch.cpp chooses among. Every
// kernel is registered once, by its full name (`<op>_<weight>_<activation>[_<tile>]__<isa>`, the
// ISA spelled as PYLLAMA_EDGE_ISA spells it), so a grep for a kernel finds its one registration.
// The tables_*.cpp files only store kernel addresses: nothing there executes them.
#pragma once
#include "kernels/kernel_table.h"

// A kernel and its name, as the table stores them (the name is the function's own spelling).
#define PLE_KERNEL(fn) fn, #fn

namespace ple::kernels {

using G = GGMLType;

inline WeightKernels& weight_slot(KernelTable& t, GGMLType type) { return t.weights[static_cast<uint32_t>(type)]; }

inline void set_dot(KernelTable& t, GGMLType type, GGMLType activation, DotFn dot, const char* name) {
  WeightKernels& w = weight_slot(t, type);
  w.dot = dot;
  w.activation_type = activation;
  w.dot_name = name;
}

inline void set_quantize(KernelTable& t, GGMLType activation, QuantizeRowFn fn) { t.quantize[static_cast<uint32_t>(activation)] = fn; }

inline void set_attention_f16(KernelTable& t, DotF16F32Fn dot, const char* dot_name, AxpyF16Fn axpy, const char* axpy_name) {
  t.dot_f16_f32 = dot;
  t.dot_f16_f32_name = dot_name;
  t.axpy_f16 = axpy;
  t.axpy_f16_name = axpy_name;
}

inline void set_axpy_q8_0(KernelTable& t, AxpyQ8_0Fn fn, const char* name) {
  t.axpy_q8_0 = fn;
  t.axpy_q8_0_name = name;
}

inline void set_activations(KernelTable& t, SoftmaxFn softmax, const char* softmax_name, SiluMulFn silu_mul,
                            const char* silu_mul_name) {
  t.softmax = softmax;
  t.softmax_name = softmax_name;
  t.silu_mul = silu_mul;
  t.silu_mul_name = silu_mul_name;
}

// A wider tier keeping a narrower one's layout or panel and replacing only its inner loop.
inline void set_panel_gemm(KernelTable& t, GGMLType type, PanelGemmFn gemm, const char* name) {
  weight_slot(t, type).prefill_panel.gemm = gemm;
  weight_slot(t, type).prefill_panel.name = name;
}
inline void set_packed_gemv(KernelTable& t, GGMLType type, PackedGemvFn gemv, const char* name) {
  weight_slot(t, type).packed.gemv = gemv;
  weight_slot(t, type).packed.name = name;
}

inline TileKernel tile_kernel(DotTileFn fn, const char* name, int rows, int tokens) { return TileKernel{fn, rows, tokens, name}; }

// One table per ISA; a SIMD table starts as a narrower one and replaces what its ISA has. Each is
// defined only where its ISA is built (PLE_BUILT_*).
KernelTable make_scalar_table();  // tables_scalar.cpp
KernelTable make_avx2_table();    // tables_x86.cpp
KernelTable make_avx512_table();
KernelTable make_neon_table();    // tables_arm.cpp
KernelTable make_dotprod_table();
KernelTable make_i8mm_table();

}  // namespace ple::kernels
