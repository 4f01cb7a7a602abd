// Kernel tables, one per ISA, and the choice among them.
//
// A table is usable when its ISA was built (PLE_BUILT_*, set by cmake/isa_sources.cmake) and its
// features are detected (cpu_features.h). Every kernel is registered here once, by its full name
// (`<op>_<weight>_<activation>[_<tile>]__<isa>`, the ISA spelled as PYLLAMA_EDGE_ISA spells it),
// so a grep for a kernel finds its one registration. Only this file names the SIMD kernels, and
// it only stores their addresses: nothing here executes them.
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/error.h"
#include "kernels/cpu_features.h"
#include "kernels/kernel_table.h"
#include "kernels/ref/ref_kernels.h"
#if PLE_BUILT_AVX2 || PLE_BUILT_AVX512
#include "kernels/x86/x86_kernels.h"
#endif
#if PLE_BUILT_NEON || PLE_BUILT_DOTPROD || PLE_BUILT_I8MM
#include "kernels/arm/arm_kernels.h"
#endif

// A kernel and its name, as the table stores them (the name is the function's own spelling).
#define PLE_KERNEL(fn) fn, #fn

namespace ple::kernels {
namespace {

using G = GGMLType;

WeightKernels& weight(KernelTable& t, GGMLType type) { return t.weights[static_cast<uint32_t>(type)]; }

void set_dot(KernelTable& t, GGMLType type, GGMLType activation, DotFn dot, const char* name) {
  WeightKernels& w = weight(t, type);
  w.dot = dot;
  w.activation_type = activation;
  w.dot_name = name;
}

void set_quantize(KernelTable& t, GGMLType activation, QuantizeRowFn fn) { t.quantize[static_cast<uint32_t>(activation)] = fn; }

void set_attention_f16(KernelTable& t, DotF16F32Fn dot, const char* dot_name, AxpyF16Fn axpy, const char* axpy_name) {
  t.dot_f16_f32 = dot;
  t.dot_f16_f32_name = dot_name;
  t.axpy_f16 = axpy;
  t.axpy_f16_name = axpy_name;
}

void set_axpy_q8_0(KernelTable& t, AxpyQ8_0Fn fn, const char* name) {
  t.axpy_q8_0 = fn;
  t.axpy_q8_0_name = name;
}

TileKernel tile(DotTileFn fn, const char* name, int rows, int tokens) { return TileKernel{fn, rows, tokens, name}; }

KernelTable make_scalar_table() {
  KernelTable t;
  t.isa = "scalar";
  weight(t, G::F32).dequantize = dequantize_row_f32__ref;
  weight(t, G::F16).dequantize = dequantize_row_f16__ref;
  weight(t, G::BF16).dequantize = dequantize_row_bf16__ref;
  weight(t, G::Q4_0).dequantize = dequantize_row_q4_0__ref;
  weight(t, G::Q4_1).dequantize = dequantize_row_q4_1__ref;
  weight(t, G::Q5_0).dequantize = dequantize_row_q5_0__ref;
  weight(t, G::Q5_1).dequantize = dequantize_row_q5_1__ref;
  weight(t, G::Q8_0).dequantize = dequantize_row_q8_0__ref;
  weight(t, G::Q8_1).dequantize = dequantize_row_q8_1__ref;  // activation formats: dequantizable, not weights
  weight(t, G::Q8_K).dequantize = dequantize_row_q8_k__ref;
  weight(t, G::Q2_K).dequantize = dequantize_row_q2_k__ref;
  weight(t, G::Q3_K).dequantize = dequantize_row_q3_k__ref;
  weight(t, G::Q4_K).dequantize = dequantize_row_q4_k__ref;
  weight(t, G::Q5_K).dequantize = dequantize_row_q5_k__ref;
  weight(t, G::Q6_K).dequantize = dequantize_row_q6_k__ref;
  set_dot(t, G::F32, G::F32, PLE_KERNEL(qdot_f32_f32__ref));
  set_dot(t, G::F16, G::F32, PLE_KERNEL(qdot_f16_f32__ref));
  set_dot(t, G::BF16, G::F32, PLE_KERNEL(qdot_bf16_f32__ref));
  set_dot(t, G::Q4_0, G::Q8_0, PLE_KERNEL(qdot_q4_0_q8_0__ref));
  set_dot(t, G::Q5_0, G::Q8_0, PLE_KERNEL(qdot_q5_0_q8_0__ref));
  set_dot(t, G::Q8_0, G::Q8_0, PLE_KERNEL(qdot_q8_0_q8_0__ref));
  set_dot(t, G::Q4_1, G::Q8_1, PLE_KERNEL(qdot_q4_1_q8_1__ref));
  set_dot(t, G::Q5_1, G::Q8_1, PLE_KERNEL(qdot_q5_1_q8_1__ref));
  set_dot(t, G::Q2_K, G::Q8_K, PLE_KERNEL(qdot_q2_k_q8_k__ref));
  set_dot(t, G::Q3_K, G::Q8_K, PLE_KERNEL(qdot_q3_k_q8_k__ref));
  set_dot(t, G::Q4_K, G::Q8_K, PLE_KERNEL(qdot_q4_k_q8_k__ref));
  set_dot(t, G::Q5_K, G::Q8_K, PLE_KERNEL(qdot_q5_k_q8_k__ref));
  set_dot(t, G::Q6_K, G::Q8_K, PLE_KERNEL(qdot_q6_k_q8_k__ref));
  set_quantize(t, G::Q8_0, quantize_row_q8_0__ref);
  set_quantize(t, G::Q8_1, quantize_row_q8_1__ref);
  set_quantize(t, G::Q8_K, quantize_row_q8_k__ref);
  set_attention_f16(t, PLE_KERNEL(dot_f16_f32__ref), PLE_KERNEL(axpy_f16__ref));
  set_axpy_q8_0(t, PLE_KERNEL(axpy_q8_0__ref));
  return t;
}

// A SIMD table starts as the scalar one (dequantization stays scalar: it is not on the hot path)
// and replaces what its ISA has.

#if PLE_BUILT_AVX2
// The AVX2 and AVX-512 tables hold the same kernel families (csrc/kernels/x86/*_x86.inc, each
// compiled once per ISA): dots, decode and prefill tiles, prefill panels, packed GEMVs and
// grouped-query attention. The AVX-512 build uses EVEX encodings, 32 registers and vpdpbusd.
KernelTable make_avx2_table() {
  KernelTable t = make_scalar_table();
  t.isa = "avx2";
  set_dot(t, G::F32, G::F32, PLE_KERNEL(qdot_f32_f32__avx2));
  set_dot(t, G::F16, G::F32, PLE_KERNEL(qdot_f16_f32__avx2));
  set_dot(t, G::BF16, G::F32, PLE_KERNEL(qdot_bf16_f32__avx2));
  set_dot(t, G::Q4_0, G::Q8_0, PLE_KERNEL(qdot_q4_0_q8_0__avx2));
  set_dot(t, G::Q5_0, G::Q8_0, PLE_KERNEL(qdot_q5_0_q8_0__avx2));
  set_dot(t, G::Q8_0, G::Q8_0, PLE_KERNEL(qdot_q8_0_q8_0__avx2));
  set_dot(t, G::Q4_1, G::Q8_1, PLE_KERNEL(qdot_q4_1_q8_1__avx2));
  set_dot(t, G::Q5_1, G::Q8_1, PLE_KERNEL(qdot_q5_1_q8_1__avx2));
  set_dot(t, G::Q2_K, G::Q8_K, PLE_KERNEL(qdot_q2_k_q8_k__avx2));
  set_dot(t, G::Q3_K, G::Q8_K, PLE_KERNEL(qdot_q3_k_q8_k__avx2));
  set_dot(t, G::Q4_K, G::Q8_K, PLE_KERNEL(qdot_q4_k_q8_k__avx2));
  set_dot(t, G::Q5_K, G::Q8_K, PLE_KERNEL(qdot_q5_k_q8_k__avx2));
  set_dot(t, G::Q6_K, G::Q8_K, PLE_KERNEL(qdot_q6_k_q8_k__avx2));
  set_quantize(t, G::Q8_0, quantize_row_q8_0__avx2);
  set_quantize(t, G::Q8_1, quantize_row_q8_1__avx2);
  set_quantize(t, G::Q8_K, quantize_row_q8_k__avx2);
  set_attention_f16(t, PLE_KERNEL(dot_f16_f32__avx2), PLE_KERNEL(axpy_f16__avx2));
  set_axpy_q8_0(t, PLE_KERNEL(axpy_q8_0__avx2));
  t.attend_scores_f16 = attend_scores_f16__avx2;
  t.attend_values_f16 = attend_values_f16__avx2;
  weight(t, G::Q4_0).decode_tile = tile(PLE_KERNEL(qtile_q4_0_q8_0_8x1__avx2), 8, 1);
  weight(t, G::Q5_0).decode_tile = tile(PLE_KERNEL(qtile_q5_0_q8_0_8x1__avx2), 8, 1);
  weight(t, G::Q8_0).decode_tile = tile(PLE_KERNEL(qtile_q8_0_q8_0_8x1__avx2), 8, 1);
  weight(t, G::Q4_1).decode_tile = tile(PLE_KERNEL(qtile_q4_1_q8_1_8x1__avx2), 8, 1);
  weight(t, G::Q5_1).decode_tile = tile(PLE_KERNEL(qtile_q5_1_q8_1_8x1__avx2), 8, 1);
  weight(t, G::Q4_K).decode_tile = tile(PLE_KERNEL(qtile_q4_k_q8_k_4x1__avx2), 4, 1);
  weight(t, G::Q5_K).decode_tile = tile(PLE_KERNEL(qtile_q5_k_q8_k_4x1__avx2), 4, 1);
  weight(t, G::Q6_K).decode_tile = tile(PLE_KERNEL(qtile_q6_k_q8_k_4x1__avx2), 4, 1);
  weight(t, G::Q4_0).prefill_tile = tile(PLE_KERNEL(qtile_q4_0_q8_0_4x4__avx2), 4, 4);
  weight(t, G::Q5_0).prefill_tile = tile(PLE_KERNEL(qtile_q5_0_q8_0_4x4__avx2), 4, 4);
  weight(t, G::Q8_0).prefill_tile = tile(PLE_KERNEL(qtile_q8_0_q8_0_4x3__avx2), 4, 3);
  weight(t, G::Q4_1).prefill_tile = tile(PLE_KERNEL(qtile_q4_1_q8_1_4x4__avx2), 4, 4);
  weight(t, G::Q5_1).prefill_tile = tile(PLE_KERNEL(qtile_q5_1_q8_1_4x4__avx2), 4, 4);
  weight(t, G::Q4_K).prefill_tile = tile(PLE_KERNEL(qtile_q4_k_q8_k_1x4__avx2), 1, 4);
  weight(t, G::Q5_K).prefill_tile = tile(PLE_KERNEL(qtile_q5_k_q8_k_1x4__avx2), 1, 4);
  weight(t, G::Q6_K).prefill_tile = tile(PLE_KERNEL(qtile_q6_k_q8_k_1x4__avx2), 1, 4);
  weight(t, G::Q4_0).prefill_panel = PanelKernel{qpanel_q4_0_q8_0__avx2, pack_panel_q4_0__avx2, panel_bytes_q4_0__avx2, 8, "qpanel_q4_0_q8_0__avx2"};
  weight(t, G::Q4_1).prefill_panel = PanelKernel{qpanel_q4_1_q8_1__avx2, pack_panel_q4_1__avx2, panel_bytes_q4_1__avx2, 8, "qpanel_q4_1_q8_1__avx2"};
  weight(t, G::Q8_0).prefill_panel = PanelKernel{qpanel_q8_0_q8_0__avx2, pack_panel_q8_0__avx2, panel_bytes_q8_0__avx2, 8, "qpanel_q8_0_q8_0__avx2"};
  weight(t, G::Q4_K).prefill_panel = PanelKernel{qpanel_q4_k_q8_k__avx2, pack_panel_q4_k__avx2, panel_bytes_q4_k__avx2, 8, "qpanel_q4_k_q8_k__avx2"};
  weight(t, G::Q6_K).prefill_panel = PanelKernel{qpanel_q6_k_q8_k__avx2, pack_panel_q6_k__avx2, panel_bytes_q6_k__avx2, 8, "qpanel_q6_k_q8_k__avx2"};
  weight(t, G::Q4_0).packed = PackedKernels{pack_q4_0x8__avx2, packed_group_bytes_q4_0x8__avx2, qgemv_q4_0x8_q8_0__avx2,
                                                      pack_panel_from_q4_0x8__avx2, 8, "qgemv_q4_0x8_q8_0__avx2", nullptr};
  weight(t, G::Q4_1).packed = PackedKernels{pack_q4_1x8__avx2, packed_group_bytes_q4_1x8__avx2, qgemv_q4_1x8_q8_1__avx2,
                                                      pack_panel_from_q4_1x8__avx2, 8, "qgemv_q4_1x8_q8_1__avx2", nullptr};
  weight(t, G::Q8_0).packed = PackedKernels{pack_q8_0x8__avx2, packed_group_bytes_q8_0x8__avx2, qgemv_q8_0x8_q8_0__avx2,
                                                      pack_panel_from_q8_0x8__avx2, 8, "qgemv_q8_0x8_q8_0__avx2",
                                                      pack_accepts_q8_0x8__avx2};
  weight(t, G::Q4_K).packed = PackedKernels{pack_q4_kx8__avx2, packed_group_bytes_q4_kx8__avx2, qgemv_q4_kx8_q8_k__avx2,
                                                      pack_panel_from_q4_kx8__avx2, 8, "qgemv_q4_kx8_q8_k__avx2", nullptr};
  return t;
}
#endif

#if PLE_BUILT_AVX512
KernelTable make_avx512_table() {
  KernelTable t = make_scalar_table();
  t.isa = "avx512";
  set_dot(t, G::F32, G::F32, PLE_KERNEL(qdot_f32_f32__avx512));
  set_dot(t, G::F16, G::F32, PLE_KERNEL(qdot_f16_f32__avx512));
  set_dot(t, G::BF16, G::F32, PLE_KERNEL(qdot_bf16_f32__avx512));
  set_dot(t, G::Q4_0, G::Q8_0, PLE_KERNEL(qdot_q4_0_q8_0__avx512));
  set_dot(t, G::Q5_0, G::Q8_0, PLE_KERNEL(qdot_q5_0_q8_0__avx512));
  set_dot(t, G::Q8_0, G::Q8_0, PLE_KERNEL(qdot_q8_0_q8_0__avx512));
  set_dot(t, G::Q4_1, G::Q8_1, PLE_KERNEL(qdot_q4_1_q8_1__avx512));
  set_dot(t, G::Q5_1, G::Q8_1, PLE_KERNEL(qdot_q5_1_q8_1__avx512));
  set_dot(t, G::Q2_K, G::Q8_K, PLE_KERNEL(qdot_q2_k_q8_k__avx512));
  set_dot(t, G::Q3_K, G::Q8_K, PLE_KERNEL(qdot_q3_k_q8_k__avx512));
  set_dot(t, G::Q4_K, G::Q8_K, PLE_KERNEL(qdot_q4_k_q8_k__avx512));
  set_dot(t, G::Q5_K, G::Q8_K, PLE_KERNEL(qdot_q5_k_q8_k__avx512));
  set_dot(t, G::Q6_K, G::Q8_K, PLE_KERNEL(qdot_q6_k_q8_k__avx512));
  set_quantize(t, G::Q8_0, quantize_row_q8_0__avx512);
  set_quantize(t, G::Q8_1, quantize_row_q8_1__avx512);
  set_quantize(t, G::Q8_K, quantize_row_q8_k__avx512);
  set_attention_f16(t, PLE_KERNEL(dot_f16_f32__avx512), PLE_KERNEL(axpy_f16__avx512));
  set_axpy_q8_0(t, PLE_KERNEL(axpy_q8_0__avx512));
  t.attend_scores_f16 = attend_scores_f16__avx512;
  t.attend_values_f16 = attend_values_f16__avx512;
  weight(t, G::Q4_0).decode_tile = tile(PLE_KERNEL(qtile_q4_0_q8_0_8x1__avx512), 8, 1);
  weight(t, G::Q5_0).decode_tile = tile(PLE_KERNEL(qtile_q5_0_q8_0_8x1__avx512), 8, 1);
  weight(t, G::Q8_0).decode_tile = tile(PLE_KERNEL(qtile_q8_0_q8_0_8x1__avx512), 8, 1);
  weight(t, G::Q4_1).decode_tile = tile(PLE_KERNEL(qtile_q4_1_q8_1_8x1__avx512), 8, 1);
  weight(t, G::Q5_1).decode_tile = tile(PLE_KERNEL(qtile_q5_1_q8_1_8x1__avx512), 8, 1);
  weight(t, G::Q4_K).decode_tile = tile(PLE_KERNEL(qtile_q4_k_q8_k_4x1__avx512), 4, 1);
  weight(t, G::Q5_K).decode_tile = tile(PLE_KERNEL(qtile_q5_k_q8_k_4x1__avx512), 4, 1);
  weight(t, G::Q6_K).decode_tile = tile(PLE_KERNEL(qtile_q6_k_q8_k_4x1__avx512), 4, 1);
  weight(t, G::Q4_0).prefill_tile = tile(PLE_KERNEL(qtile_q4_0_q8_0_4x4__avx512), 4, 4);
  weight(t, G::Q5_0).prefill_tile = tile(PLE_KERNEL(qtile_q5_0_q8_0_4x4__avx512), 4, 4);
  weight(t, G::Q8_0).prefill_tile = tile(PLE_KERNEL(qtile_q8_0_q8_0_4x3__avx512), 4, 3);
  weight(t, G::Q4_1).prefill_tile = tile(PLE_KERNEL(qtile_q4_1_q8_1_4x4__avx512), 4, 4);
  weight(t, G::Q5_1).prefill_tile = tile(PLE_KERNEL(qtile_q5_1_q8_1_4x4__avx512), 4, 4);
  weight(t, G::Q4_K).prefill_tile = tile(PLE_KERNEL(qtile_q4_k_q8_k_1x4__avx512), 1, 4);
  weight(t, G::Q5_K).prefill_tile = tile(PLE_KERNEL(qtile_q5_k_q8_k_1x4__avx512), 1, 4);
  weight(t, G::Q6_K).prefill_tile = tile(PLE_KERNEL(qtile_q6_k_q8_k_1x4__avx512), 1, 4);
  weight(t, G::Q4_0).prefill_panel = PanelKernel{qpanel_q4_0_q8_0__avx512, pack_panel_q4_0__avx512, panel_bytes_q4_0__avx512, 8, "qpanel_q4_0_q8_0__avx512"};
  weight(t, G::Q4_1).prefill_panel = PanelKernel{qpanel_q4_1_q8_1__avx512, pack_panel_q4_1__avx512, panel_bytes_q4_1__avx512, 8, "qpanel_q4_1_q8_1__avx512"};
  weight(t, G::Q8_0).prefill_panel = PanelKernel{qpanel_q8_0_q8_0__avx512, pack_panel_q8_0__avx512, panel_bytes_q8_0__avx512, 8, "qpanel_q8_0_q8_0__avx512"};
  weight(t, G::Q4_K).prefill_panel = PanelKernel{qpanel_q4_k_q8_k__avx512, pack_panel_q4_k__avx512, panel_bytes_q4_k__avx512, 8, "qpanel_q4_k_q8_k__avx512"};
  weight(t, G::Q6_K).prefill_panel = PanelKernel{qpanel_q6_k_q8_k__avx512, pack_panel_q6_k__avx512, panel_bytes_q6_k__avx512, 8, "qpanel_q6_k_q8_k__avx512"};
  weight(t, G::Q4_0).packed = PackedKernels{pack_q4_0x8__avx512, packed_group_bytes_q4_0x8__avx512, qgemv_q4_0x8_q8_0__avx512,
                                                      pack_panel_from_q4_0x8__avx512, 8, "qgemv_q4_0x8_q8_0__avx512", nullptr};
  weight(t, G::Q4_1).packed = PackedKernels{pack_q4_1x8__avx512, packed_group_bytes_q4_1x8__avx512, qgemv_q4_1x8_q8_1__avx512,
                                                      pack_panel_from_q4_1x8__avx512, 8, "qgemv_q4_1x8_q8_1__avx512", nullptr};
  weight(t, G::Q8_0).packed = PackedKernels{pack_q8_0x8__avx512, packed_group_bytes_q8_0x8__avx512, qgemv_q8_0x8_q8_0__avx512,
                                                      pack_panel_from_q8_0x8__avx512, 8, "qgemv_q8_0x8_q8_0__avx512",
                                                      pack_accepts_q8_0x8__avx512};
  weight(t, G::Q4_K).packed = PackedKernels{pack_q4_kx8__avx512, packed_group_bytes_q4_kx8__avx512, qgemv_q4_kx8_q8_k__avx512,
                                                      pack_panel_from_q4_kx8__avx512, 8, "qgemv_q4_kx8_q8_k__avx512", nullptr};
  return t;
}
#endif

// AArch64: each tier starts from the narrower one. dotprod replaces the integer dots (the float
// dots, quantizers and attention kernels stay NEON's); i8mm adds the 2x2 prefill tiles.
#if PLE_BUILT_NEON
KernelTable make_neon_table() {
  KernelTable t = make_scalar_table();
  t.isa = "neon";
  set_dot(t, G::F32, G::F32, PLE_KERNEL(qdot_f32_f32__neon));
  set_dot(t, G::F16, G::F32, PLE_KERNEL(qdot_f16_f32__neon));
  set_dot(t, G::BF16, G::F32, PLE_KERNEL(qdot_bf16_f32__neon));
  set_dot(t, G::Q4_0, G::Q8_0, PLE_KERNEL(qdot_q4_0_q8_0__neon));
  set_dot(t, G::Q5_0, G::Q8_0, PLE_KERNEL(qdot_q5_0_q8_0__neon));
  set_dot(t, G::Q8_0, G::Q8_0, PLE_KERNEL(qdot_q8_0_q8_0__neon));
  set_dot(t, G::Q4_1, G::Q8_1, PLE_KERNEL(qdot_q4_1_q8_1__neon));
  set_dot(t, G::Q5_1, G::Q8_1, PLE_KERNEL(qdot_q5_1_q8_1__neon));
  set_dot(t, G::Q2_K, G::Q8_K, PLE_KERNEL(qdot_q2_k_q8_k__neon));
  set_dot(t, G::Q3_K, G::Q8_K, PLE_KERNEL(qdot_q3_k_q8_k__neon));
  set_dot(t, G::Q4_K, G::Q8_K, PLE_KERNEL(qdot_q4_k_q8_k__neon));
  set_dot(t, G::Q5_K, G::Q8_K, PLE_KERNEL(qdot_q5_k_q8_k__neon));
  set_dot(t, G::Q6_K, G::Q8_K, PLE_KERNEL(qdot_q6_k_q8_k__neon));
  set_quantize(t, G::Q8_0, quantize_row_q8_0__neon);
  set_quantize(t, G::Q8_1, quantize_row_q8_1__neon);
  set_quantize(t, G::Q8_K, quantize_row_q8_k__neon);
  set_attention_f16(t, PLE_KERNEL(dot_f16_f32__neon), PLE_KERNEL(axpy_f16__neon));
  set_axpy_q8_0(t, PLE_KERNEL(axpy_q8_0__neon));
  return t;
}
#endif
#if PLE_BUILT_NEON && PLE_BUILT_DOTPROD
KernelTable make_dotprod_table() {
  KernelTable t = make_neon_table();
  t.isa = "dotprod";
  set_dot(t, G::Q4_0, G::Q8_0, PLE_KERNEL(qdot_q4_0_q8_0__dotprod));
  set_dot(t, G::Q5_0, G::Q8_0, PLE_KERNEL(qdot_q5_0_q8_0__dotprod));
  set_dot(t, G::Q8_0, G::Q8_0, PLE_KERNEL(qdot_q8_0_q8_0__dotprod));
  set_dot(t, G::Q4_1, G::Q8_1, PLE_KERNEL(qdot_q4_1_q8_1__dotprod));
  set_dot(t, G::Q5_1, G::Q8_1, PLE_KERNEL(qdot_q5_1_q8_1__dotprod));
  set_dot(t, G::Q2_K, G::Q8_K, PLE_KERNEL(qdot_q2_k_q8_k__dotprod));
  set_dot(t, G::Q3_K, G::Q8_K, PLE_KERNEL(qdot_q3_k_q8_k__dotprod));
  set_dot(t, G::Q4_K, G::Q8_K, PLE_KERNEL(qdot_q4_k_q8_k__dotprod));
  set_dot(t, G::Q5_K, G::Q8_K, PLE_KERNEL(qdot_q5_k_q8_k__dotprod));
  set_dot(t, G::Q6_K, G::Q8_K, PLE_KERNEL(qdot_q6_k_q8_k__dotprod));
  return t;
}
#endif
#if PLE_BUILT_NEON && PLE_BUILT_DOTPROD && PLE_BUILT_I8MM
KernelTable make_i8mm_table() {
  KernelTable t = make_dotprod_table();
  t.isa = "i8mm";
  weight(t, G::Q4_0).prefill_tile = tile(PLE_KERNEL(qtile_q4_0_q8_0_2x2__i8mm), 2, 2);
  weight(t, G::Q8_0).prefill_tile = tile(PLE_KERNEL(qtile_q8_0_q8_0_2x2__i8mm), 2, 2);
  return t;
}
#endif

// The ISAs of this platform, narrowest first.
struct IsaEntry {
  const char* name;
  bool built;
  bool (*supported)(const CpuFeatures&);
  const KernelTable* (*table)();
};

const KernelTable* scalar_table() { return &reference_kernels(); }
#if PLE_BUILT_AVX2
const KernelTable* avx2_table() {
  static const KernelTable t = make_avx2_table();
  return &t;
}
#endif
#if PLE_BUILT_AVX512
const KernelTable* avx512_table() {
  static const KernelTable t = make_avx512_table();
  return &t;
}
#endif

#if PLE_BUILT_NEON
const KernelTable* neon_table() {
  static const KernelTable t = make_neon_table();
  return &t;
}
#endif
#if PLE_BUILT_NEON && PLE_BUILT_DOTPROD
const KernelTable* dotprod_table() {
  static const KernelTable t = make_dotprod_table();
  return &t;
}
#endif
#if PLE_BUILT_NEON && PLE_BUILT_DOTPROD && PLE_BUILT_I8MM
const KernelTable* i8mm_table() {
  static const KernelTable t = make_i8mm_table();
  return &t;
}
#endif

#if defined(__aarch64__) || defined(_M_ARM64)
bool has_neon(const CpuFeatures& f) { return f.neon; }
bool has_dotprod(const CpuFeatures& f) { return f.neon && f.dotprod; }
bool has_i8mm(const CpuFeatures& f) { return f.neon && f.dotprod && f.i8mm; }  // its dots are dotprod's
#endif

#if defined(__x86_64__) || defined(_M_X64)
bool has_avx2(const CpuFeatures& f) { return f.avx2 && f.fma && f.f16c; }
bool has_avx512(const CpuFeatures& f) {
#if PLE_EMULATED_AVX512  // test build only: the AVX-512 files run on SIMDe, any AVX2 CPU will do
  return has_avx2(f);
#else
  return has_avx2(f) && f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni;
#endif
}
#endif

const IsaEntry kIsas[] = {
    {"scalar", true, [](const CpuFeatures&) { return true; }, scalar_table},
#if defined(__x86_64__) || defined(_M_X64)
#if PLE_BUILT_AVX2
    {"avx2", true, has_avx2, avx2_table},
#else
    {"avx2", false, has_avx2, nullptr},
#endif
#if PLE_BUILT_AVX512
    {"avx512", true, has_avx512, avx512_table},
#else
    {"avx512", false, has_avx512, nullptr},
#endif
#elif defined(__aarch64__) || defined(_M_ARM64)
#if PLE_BUILT_NEON
    {"neon", true, has_neon, neon_table},
#else
    {"neon", false, has_neon, nullptr},
#endif
#if PLE_BUILT_NEON && PLE_BUILT_DOTPROD
    {"dotprod", true, has_dotprod, dotprod_table},
#else
    {"dotprod", false, has_dotprod, nullptr},
#endif
#if PLE_BUILT_NEON && PLE_BUILT_DOTPROD && PLE_BUILT_I8MM
    {"i8mm", true, has_i8mm, i8mm_table},
#else
    {"i8mm", false, has_i8mm, nullptr},
#endif
#endif
};
constexpr int kIsaCount = static_cast<int>(sizeof kIsas / sizeof kIsas[0]);

bool usable(const IsaEntry& e) { return e.built && e.supported(cpu_features()); }

struct IsaLists {
  const char* usable[kIsaCount];
  const char* built[kIsaCount];
  int n_usable = 0, n_built = 0;
};

const IsaLists& isa_lists() {
  static const IsaLists lists = [] {
    IsaLists l;
    for (const IsaEntry& e : kIsas) {
      if (e.built) l.built[l.n_built++] = e.name;
      if (usable(e)) l.usable[l.n_usable++] = e.name;
    }
    return l;
  }();
  return lists;
}

bool same_name(const char* a, const char* b) {
  for (; *a && *b; ++a, ++b) {
    if (std::tolower(static_cast<unsigned char>(*a)) != std::tolower(static_cast<unsigned char>(*b))) return false;
  }
  return *a == *b;
}

// The cap, read once with the choice. Empty counts as unset.
const std::string& cap_value() {
  static const std::string value = [] {
    const char* env = std::getenv("PYLLAMA_EDGE_ISA");
    return std::string(env != nullptr ? env : "");
  }();
  return value;
}

// The names this platform accepts for PYLLAMA_EDGE_ISA, for the error message.
std::string accepted_isa_names() {
  std::string names;
  for (const IsaEntry& e : kIsas) names += (names.empty() ? "" : ", ") + std::string(e.name);
  return names;
}

const KernelTable& choose() {
  const std::string& cap = cap_value();
  int limit = kIsaCount - 1;
  if (!cap.empty()) {
    limit = -1;
    for (int i = 0; i < kIsaCount; ++i) {
      if (same_name(cap.c_str(), kIsas[i].name)) limit = i;
    }
    // A typo must not silently run the slowest path.
    if (limit < 0) {
      throw InvalidArgument("PYLLAMA_EDGE_ISA='" + cap + "' is not a kernel path of this platform; accepted values: " +
                            accepted_isa_names() + " (case-insensitive; empty means no cap)");
    }
  }
  for (int i = limit; i > 0; --i) {
    if (usable(kIsas[i])) return *kIsas[i].table();
  }
  return reference_kernels();
}

}  // namespace

const KernelTable& reference_kernels() {
  static const KernelTable table = make_scalar_table();
  return table;
}

const KernelTable& active_kernels() {
  static const KernelTable& table = choose();
  return table;
}

const KernelTable* kernel_table_for(const char* isa) {
  if (isa == nullptr) return nullptr;
  for (const IsaEntry& e : kIsas) {
    if (same_name(isa, e.name)) return usable(e) ? e.table() : nullptr;
  }
  return nullptr;
}

const KernelTable& kernel_table_named(const std::string& isa) {
  if (isa.empty()) return active_kernels();
  const KernelTable* table = kernel_table_for(isa.c_str());
  if (table == nullptr) {
    std::string usable;
    for (int i = 0; i < isa_lists().n_usable; ++i) usable += (i ? ", " : "") + std::string(isa_lists().usable[i]);
    throw InvalidArgument("kernel ISA '" + isa + "' is not usable on this machine (usable: " + usable + ")");
  }
  return *table;
}

const char* const* usable_isas(int* count) {
  *count = isa_lists().n_usable;
  return isa_lists().usable;
}

const char* const* built_isas(int* count) {
  *count = isa_lists().n_built;
  return isa_lists().built;
}

const char* isa_cap() {
  active_kernels();
  return cap_value().empty() ? nullptr : cap_value().c_str();
}

}  // namespace ple::kernels
