// The x86 tables. Built at the baseline: it only stores the addresses of kernels compiled with
// wider flags (x86_kernels.h), which dispatch.cpp hands out after the CPU check.
#include "kernels/table_builders.h"
#if PLE_BUILT_AVX2 || PLE_BUILT_AVX512
#include "kernels/x86/x86_kernels.h"
#endif

namespace ple::kernels {

#if PLE_BUILT_AVX2 || PLE_BUILT_AVX512
// Small batches (speculative decoding's verification) run the packed GEMVs once per token up to
// this many tokens: a 2-token batch on a 1B Q4_0 file costs 1.5 decode steps that way, 2.6 through
// freshly packed panels (bench/README.md, issue 18). ARM's panels cost less than its GEMVs per
// token in instructions even at two tokens, so its tables keep 0 (panels).
constexpr int kX86GemvBatch = 17;
#endif

// A SIMD table starts as the scalar one (dequantization stays scalar: it is not on the hot path)
// and replaces what its ISA has.

#if PLE_BUILT_AVX2
// The AVX2 and AVX-512 tables hold the same kernel families (csrc/kernels/x86/*_x86.h, templates
// instantiated once per ISA with its policy): dots, decode and prefill tiles, prefill panels,
// packed GEMVs and grouped-query attention. The AVX-512 build uses EVEX encodings, 32 registers
// and vpdpbusd (policy_avx512.h).
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
  set_activations(t, PLE_KERNEL(softmax__avx2), PLE_KERNEL(silu_mul__avx2));
  t.attend_scores_f16 = attend_scores_f16__avx2;
  t.attend_values_f16 = attend_values_f16__avx2;
  weight_slot(t, G::Q4_0).decode_tile = tile_kernel(PLE_KERNEL(qtile_q4_0_q8_0_8x1__avx2), 8, 1);
  weight_slot(t, G::Q5_0).decode_tile = tile_kernel(PLE_KERNEL(qtile_q5_0_q8_0_8x1__avx2), 8, 1);
  weight_slot(t, G::Q8_0).decode_tile = tile_kernel(PLE_KERNEL(qtile_q8_0_q8_0_8x1__avx2), 8, 1);
  weight_slot(t, G::Q4_1).decode_tile = tile_kernel(PLE_KERNEL(qtile_q4_1_q8_1_8x1__avx2), 8, 1);
  weight_slot(t, G::Q5_1).decode_tile = tile_kernel(PLE_KERNEL(qtile_q5_1_q8_1_8x1__avx2), 8, 1);
  weight_slot(t, G::Q4_K).decode_tile = tile_kernel(PLE_KERNEL(qtile_q4_k_q8_k_4x1__avx2), 4, 1);
  weight_slot(t, G::Q5_K).decode_tile = tile_kernel(PLE_KERNEL(qtile_q5_k_q8_k_4x1__avx2), 4, 1);
  weight_slot(t, G::Q6_K).decode_tile = tile_kernel(PLE_KERNEL(qtile_q6_k_q8_k_4x1__avx2), 4, 1);
  weight_slot(t, G::Q4_0).prefill_tile = tile_kernel(PLE_KERNEL(qtile_q4_0_q8_0_4x4__avx2), 4, 4);
  weight_slot(t, G::Q5_0).prefill_tile = tile_kernel(PLE_KERNEL(qtile_q5_0_q8_0_4x4__avx2), 4, 4);
  weight_slot(t, G::Q8_0).prefill_tile = tile_kernel(PLE_KERNEL(qtile_q8_0_q8_0_4x3__avx2), 4, 3);
  weight_slot(t, G::Q4_1).prefill_tile = tile_kernel(PLE_KERNEL(qtile_q4_1_q8_1_4x4__avx2), 4, 4);
  weight_slot(t, G::Q5_1).prefill_tile = tile_kernel(PLE_KERNEL(qtile_q5_1_q8_1_4x4__avx2), 4, 4);
  weight_slot(t, G::Q4_K).prefill_tile = tile_kernel(PLE_KERNEL(qtile_q4_k_q8_k_1x4__avx2), 1, 4);
  weight_slot(t, G::Q5_K).prefill_tile = tile_kernel(PLE_KERNEL(qtile_q5_k_q8_k_1x4__avx2), 1, 4);
  weight_slot(t, G::Q6_K).prefill_tile = tile_kernel(PLE_KERNEL(qtile_q6_k_q8_k_1x4__avx2), 1, 4);
  weight_slot(t, G::Q4_0).prefill_panel = PanelKernel{qpanel_q4_0_q8_0__avx2, pack_panel_q4_0__avx2, panel_bytes_q4_0__avx2, 8, "qpanel_q4_0_q8_0__avx2"};
  weight_slot(t, G::Q4_1).prefill_panel = PanelKernel{qpanel_q4_1_q8_1__avx2, pack_panel_q4_1__avx2, panel_bytes_q4_1__avx2, 8, "qpanel_q4_1_q8_1__avx2"};
  weight_slot(t, G::Q8_0).prefill_panel = PanelKernel{qpanel_q8_0_q8_0__avx2, pack_panel_q8_0__avx2, panel_bytes_q8_0__avx2, 8, "qpanel_q8_0_q8_0__avx2"};
  weight_slot(t, G::Q4_K).prefill_panel = PanelKernel{qpanel_q4_k_q8_k__avx2, pack_panel_q4_k__avx2, panel_bytes_q4_k__avx2, 8, "qpanel_q4_k_q8_k__avx2"};
  weight_slot(t, G::Q6_K).prefill_panel = PanelKernel{qpanel_q6_k_q8_k__avx2, pack_panel_q6_k__avx2, panel_bytes_q6_k__avx2, 8, "qpanel_q6_k_q8_k__avx2"};
  weight_slot(t, G::Q4_0).packed = PackedKernels{pack_q4_0x8__avx2, packed_group_bytes_q4_0x8__avx2, qgemv_q4_0x8_q8_0__avx2,
                                                      pack_panel_from_q4_0x8__avx2, 8, "qgemv_q4_0x8_q8_0__avx2", nullptr, kX86GemvBatch};
  weight_slot(t, G::Q4_1).packed = PackedKernels{pack_q4_1x8__avx2, packed_group_bytes_q4_1x8__avx2, qgemv_q4_1x8_q8_1__avx2,
                                                      pack_panel_from_q4_1x8__avx2, 8, "qgemv_q4_1x8_q8_1__avx2", nullptr, kX86GemvBatch};
  weight_slot(t, G::Q8_0).packed = PackedKernels{pack_q8_0x8__avx2, packed_group_bytes_q8_0x8__avx2, qgemv_q8_0x8_q8_0__avx2,
                                                      pack_panel_from_q8_0x8__avx2, 8, "qgemv_q8_0x8_q8_0__avx2",
                                                      pack_accepts_q8_0x8__avx2, kX86GemvBatch};
  weight_slot(t, G::Q4_K).packed = PackedKernels{pack_q4_kx8__avx2, packed_group_bytes_q4_kx8__avx2, qgemv_q4_kx8_q8_k__avx2,
                                                      pack_panel_from_q4_kx8__avx2, 8, "qgemv_q4_kx8_q8_k__avx2", nullptr, kX86GemvBatch};
  weight_slot(t, G::Q4_0).packed.gemv_tokens = qgemv_tokens_q4_0x8_q8_0__avx2;
  weight_slot(t, G::Q4_1).packed.gemv_tokens = qgemv_tokens_q4_1x8_q8_1__avx2;
  weight_slot(t, G::Q8_0).packed.gemv_tokens = qgemv_tokens_q8_0x8_q8_0__avx2;
  weight_slot(t, G::Q4_K).packed.gemv_tokens = qgemv_tokens_q4_kx8_q8_k__avx2;
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
  set_activations(t, PLE_KERNEL(softmax__avx512), PLE_KERNEL(silu_mul__avx512));
  t.attend_scores_f16 = attend_scores_f16__avx512;
  t.attend_values_f16 = attend_values_f16__avx512;
  weight_slot(t, G::Q4_0).decode_tile = tile_kernel(PLE_KERNEL(qtile_q4_0_q8_0_8x1__avx512), 8, 1);
  weight_slot(t, G::Q5_0).decode_tile = tile_kernel(PLE_KERNEL(qtile_q5_0_q8_0_8x1__avx512), 8, 1);
  weight_slot(t, G::Q8_0).decode_tile = tile_kernel(PLE_KERNEL(qtile_q8_0_q8_0_8x1__avx512), 8, 1);
  weight_slot(t, G::Q4_1).decode_tile = tile_kernel(PLE_KERNEL(qtile_q4_1_q8_1_8x1__avx512), 8, 1);
  weight_slot(t, G::Q5_1).decode_tile = tile_kernel(PLE_KERNEL(qtile_q5_1_q8_1_8x1__avx512), 8, 1);
  weight_slot(t, G::Q4_K).decode_tile = tile_kernel(PLE_KERNEL(qtile_q4_k_q8_k_4x1__avx512), 4, 1);
  weight_slot(t, G::Q5_K).decode_tile = tile_kernel(PLE_KERNEL(qtile_q5_k_q8_k_4x1__avx512), 4, 1);
  weight_slot(t, G::Q6_K).decode_tile = tile_kernel(PLE_KERNEL(qtile_q6_k_q8_k_4x1__avx512), 4, 1);
  weight_slot(t, G::Q4_0).prefill_tile = tile_kernel(PLE_KERNEL(qtile_q4_0_q8_0_4x4__avx512), 4, 4);
  weight_slot(t, G::Q5_0).prefill_tile = tile_kernel(PLE_KERNEL(qtile_q5_0_q8_0_4x4__avx512), 4, 4);
  weight_slot(t, G::Q8_0).prefill_tile = tile_kernel(PLE_KERNEL(qtile_q8_0_q8_0_4x3__avx512), 4, 3);
  weight_slot(t, G::Q4_1).prefill_tile = tile_kernel(PLE_KERNEL(qtile_q4_1_q8_1_4x4__avx512), 4, 4);
  weight_slot(t, G::Q5_1).prefill_tile = tile_kernel(PLE_KERNEL(qtile_q5_1_q8_1_4x4__avx512), 4, 4);
  weight_slot(t, G::Q4_K).prefill_tile = tile_kernel(PLE_KERNEL(qtile_q4_k_q8_k_1x4__avx512), 1, 4);
  weight_slot(t, G::Q5_K).prefill_tile = tile_kernel(PLE_KERNEL(qtile_q5_k_q8_k_1x4__avx512), 1, 4);
  weight_slot(t, G::Q6_K).prefill_tile = tile_kernel(PLE_KERNEL(qtile_q6_k_q8_k_1x4__avx512), 1, 4);
  weight_slot(t, G::Q4_0).prefill_panel = PanelKernel{qpanel_q4_0_q8_0__avx512, pack_panel_q4_0__avx512, panel_bytes_q4_0__avx512, 8, "qpanel_q4_0_q8_0__avx512"};
  weight_slot(t, G::Q4_1).prefill_panel = PanelKernel{qpanel_q4_1_q8_1__avx512, pack_panel_q4_1__avx512, panel_bytes_q4_1__avx512, 8, "qpanel_q4_1_q8_1__avx512"};
  weight_slot(t, G::Q8_0).prefill_panel = PanelKernel{qpanel_q8_0_q8_0__avx512, pack_panel_q8_0__avx512, panel_bytes_q8_0__avx512, 8, "qpanel_q8_0_q8_0__avx512"};
  weight_slot(t, G::Q4_K).prefill_panel = PanelKernel{qpanel_q4_k_q8_k__avx512, pack_panel_q4_k__avx512, panel_bytes_q4_k__avx512, 8, "qpanel_q4_k_q8_k__avx512"};
  weight_slot(t, G::Q6_K).prefill_panel = PanelKernel{qpanel_q6_k_q8_k__avx512, pack_panel_q6_k__avx512, panel_bytes_q6_k__avx512, 8, "qpanel_q6_k_q8_k__avx512"};
  weight_slot(t, G::Q4_0).packed = PackedKernels{pack_q4_0x8__avx512, packed_group_bytes_q4_0x8__avx512, qgemv_q4_0x8_q8_0__avx512,
                                                      pack_panel_from_q4_0x8__avx512, 8, "qgemv_q4_0x8_q8_0__avx512", nullptr, kX86GemvBatch};
  weight_slot(t, G::Q4_1).packed = PackedKernels{pack_q4_1x8__avx512, packed_group_bytes_q4_1x8__avx512, qgemv_q4_1x8_q8_1__avx512,
                                                      pack_panel_from_q4_1x8__avx512, 8, "qgemv_q4_1x8_q8_1__avx512", nullptr, kX86GemvBatch};
  weight_slot(t, G::Q8_0).packed = PackedKernels{pack_q8_0x8__avx512, packed_group_bytes_q8_0x8__avx512, qgemv_q8_0x8_q8_0__avx512,
                                                      pack_panel_from_q8_0x8__avx512, 8, "qgemv_q8_0x8_q8_0__avx512",
                                                      pack_accepts_q8_0x8__avx512, kX86GemvBatch};
  weight_slot(t, G::Q4_K).packed = PackedKernels{pack_q4_kx8__avx512, packed_group_bytes_q4_kx8__avx512, qgemv_q4_kx8_q8_k__avx512,
                                                      pack_panel_from_q4_kx8__avx512, 8, "qgemv_q4_kx8_q8_k__avx512", nullptr, kX86GemvBatch};
  weight_slot(t, G::Q4_0).packed.gemv_tokens = qgemv_tokens_q4_0x8_q8_0__avx512;
  weight_slot(t, G::Q4_1).packed.gemv_tokens = qgemv_tokens_q4_1x8_q8_1__avx512;
  weight_slot(t, G::Q8_0).packed.gemv_tokens = qgemv_tokens_q8_0x8_q8_0__avx512;
  weight_slot(t, G::Q4_K).packed.gemv_tokens = qgemv_tokens_q4_kx8_q8_k__avx512;
  return t;
}
#endif

}  // namespace ple::kernels
