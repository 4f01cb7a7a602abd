// The AArch64 tables. Built at the baseline: it only stores the addresses of kernels compiled with
// wider flags (arm_kernels.h), which dispatch.cpp hands out after the CPU check.
#include "kernels/table_builders.h"
#if PLE_BUILT_NEON || PLE_BUILT_DOTPROD || PLE_BUILT_I8MM
#include "kernels/arm/arm_kernels.h"
#endif

namespace ple::kernels {

// AArch64: each tier starts from the narrower one. dotprod replaces the integer dots (the float
// dots, quantizers and attention kernels stay NEON's); i8mm adds smmla prefill panels (and 2x2 tiles).
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
  t.attend_scores_f16 = attend_scores_f16__neon;
  t.attend_values_f16 = attend_values_f16__neon;
  set_activations(t, PLE_KERNEL(softmax__neon), PLE_KERNEL(silu_mul__neon));
  weight_slot(t, G::Q5_0).decode_tile = tile_kernel(PLE_KERNEL(qtile_q5_0_q8_0_4x1__neon), 4, 1);
  weight_slot(t, G::Q5_1).decode_tile = tile_kernel(PLE_KERNEL(qtile_q5_1_q8_1_4x1__neon), 4, 1);
  weight_slot(t, G::Q5_K).decode_tile = tile_kernel(PLE_KERNEL(qtile_q5_k_q8_k_4x1__neon), 4, 1);
  weight_slot(t, G::Q4_0).prefill_panel = PanelKernel{qpanel_q4_0_q8_0__neon, pack_panel_q4_0__neon, panel_bytes_q4_0__neon, 8, "qpanel_q4_0_q8_0__neon"};
  weight_slot(t, G::Q4_1).prefill_panel = PanelKernel{qpanel_q4_1_q8_1__neon, pack_panel_q4_1__neon, panel_bytes_q4_1__neon, 8, "qpanel_q4_1_q8_1__neon"};
  weight_slot(t, G::Q8_0).prefill_panel = PanelKernel{qpanel_q8_0_q8_0__neon, pack_panel_q8_0__neon, panel_bytes_q8_0__neon, 8, "qpanel_q8_0_q8_0__neon"};
  weight_slot(t, G::Q4_K).prefill_panel = PanelKernel{qpanel_q4_k_q8_k__neon, pack_panel_q4_k__neon, panel_bytes_q4_k__neon, 8, "qpanel_q4_k_q8_k__neon"};
  weight_slot(t, G::Q4_K).packed = PackedKernels{pack_q4_kx8__neon, packed_group_bytes_q4_kx8__neon, qgemv_q4_kx8_q8_k__neon,
                                                 pack_panel_from_q4_kx8__neon, 8, "qgemv_q4_kx8_q8_k__neon", nullptr};
  weight_slot(t, G::Q6_K).prefill_panel = PanelKernel{qpanel_q6_k_q8_k__neon, pack_panel_q6_k__neon, panel_bytes_q6_k__neon, 8, "qpanel_q6_k_q8_k__neon"};
  // Q5_K's panel is Q4_K's format (5-bit quants): its own packing, Q4_K's size and token loop.
  weight_slot(t, G::Q5_K).prefill_panel = PanelKernel{qpanel_q4_k_q8_k__neon, pack_panel_q5_k__neon, panel_bytes_q4_k__neon, 8, "qpanel_q4_k_q8_k__neon"};
  // Likewise Q5_0, Q5_1 and Q3_K in Q4_0's, Q4_1's and Q6_K's formats; Q2_K has a format of its own.
  weight_slot(t, G::Q5_0).prefill_panel = PanelKernel{qpanel_q4_0_q8_0__neon, pack_panel_q5_0__neon, panel_bytes_q4_0__neon, 8, "qpanel_q4_0_q8_0__neon"};
  weight_slot(t, G::Q5_1).prefill_panel = PanelKernel{qpanel_q4_1_q8_1__neon, pack_panel_q5_1__neon, panel_bytes_q4_1__neon, 8, "qpanel_q4_1_q8_1__neon"};
  weight_slot(t, G::Q3_K).prefill_panel = PanelKernel{qpanel_q6_k_q8_k__neon, pack_panel_q3_k__neon, panel_bytes_q6_k__neon, 8, "qpanel_q6_k_q8_k__neon"};
  weight_slot(t, G::Q2_K).prefill_panel = PanelKernel{qpanel_q2_k_q8_k__neon, pack_panel_q2_k__neon, panel_bytes_q2_k__neon, 8, "qpanel_q2_k_q8_k__neon"};
  weight_slot(t, G::Q5_K).packed = PackedKernels{pack_q5_kx8__neon, packed_group_bytes_q5_kx8__neon, qgemv_q5_kx8_q8_k__neon,
                                                 pack_panel_from_q5_kx8__neon, 8, "qgemv_q5_kx8_q8_k__neon", nullptr};
  weight_slot(t, G::Q6_K).packed = PackedKernels{pack_q6_kx8__neon, packed_group_bytes_q6_kx8__neon, qgemv_q6_kx8_q8_k__neon,
                                                 pack_panel_from_q6_kx8__neon, 8, "qgemv_q6_kx8_q8_k__neon", nullptr};
  weight_slot(t, G::Q4_0).packed = PackedKernels{pack_q4_0x8__neon, packed_group_bytes_q4_0x8__neon, qgemv_q4_0x8_q8_0__neon,
                                                 pack_panel_from_q4_0x8__neon, 8, "qgemv_q4_0x8_q8_0__neon", nullptr};
  weight_slot(t, G::Q4_1).packed = PackedKernels{pack_q4_1x8__neon, packed_group_bytes_q4_1x8__neon, qgemv_q4_1x8_q8_1__neon,
                                                 pack_panel_from_q4_1x8__neon, 8, "qgemv_q4_1x8_q8_1__neon", nullptr};
  weight_slot(t, G::Q8_0).packed = PackedKernels{pack_q8_0x8__neon, packed_group_bytes_q8_0x8__neon, qgemv_q8_0x8_q8_0__neon,
                                                 pack_panel_from_q8_0x8__neon, 8, "qgemv_q8_0x8_q8_0__neon", nullptr};
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
  weight_slot(t, G::Q5_0).decode_tile = tile_kernel(PLE_KERNEL(qtile_q5_0_q8_0_4x1__dotprod), 4, 1);
  weight_slot(t, G::Q5_1).decode_tile = tile_kernel(PLE_KERNEL(qtile_q5_1_q8_1_4x1__dotprod), 4, 1);
  weight_slot(t, G::Q5_K).decode_tile = tile_kernel(PLE_KERNEL(qtile_q5_k_q8_k_4x1__dotprod), 4, 1);
  // The packed layouts and panels are NEON's; the GEMVs and the panels' token loops use sdot.
  set_panel_gemm(t, G::Q4_0, PLE_KERNEL(qpanel_q4_0_q8_0__dotprod));
  set_panel_gemm(t, G::Q4_1, PLE_KERNEL(qpanel_q4_1_q8_1__dotprod));
  set_panel_gemm(t, G::Q8_0, PLE_KERNEL(qpanel_q8_0_q8_0__dotprod));
  set_panel_gemm(t, G::Q4_K, PLE_KERNEL(qpanel_q4_k_q8_k__dotprod));
  set_panel_gemm(t, G::Q6_K, PLE_KERNEL(qpanel_q6_k_q8_k__dotprod));
  set_panel_gemm(t, G::Q5_K, PLE_KERNEL(qpanel_q4_k_q8_k__dotprod));
  set_panel_gemm(t, G::Q5_0, PLE_KERNEL(qpanel_q4_0_q8_0__dotprod));
  set_panel_gemm(t, G::Q5_1, PLE_KERNEL(qpanel_q4_1_q8_1__dotprod));
  set_panel_gemm(t, G::Q3_K, PLE_KERNEL(qpanel_q6_k_q8_k__dotprod));
  set_panel_gemm(t, G::Q2_K, PLE_KERNEL(qpanel_q2_k_q8_k__dotprod));
  set_packed_gemv(t, G::Q4_0, PLE_KERNEL(qgemv_q4_0x8_q8_0__dotprod));
  set_packed_gemv(t, G::Q4_1, PLE_KERNEL(qgemv_q4_1x8_q8_1__dotprod));
  set_packed_gemv(t, G::Q8_0, PLE_KERNEL(qgemv_q8_0x8_q8_0__dotprod));
  set_packed_gemv(t, G::Q4_K, PLE_KERNEL(qgemv_q4_kx8_q8_k__dotprod));
  set_packed_gemv(t, G::Q5_K, PLE_KERNEL(qgemv_q5_kx8_q8_k__dotprod));
  set_packed_gemv(t, G::Q6_K, PLE_KERNEL(qgemv_q6_kx8_q8_k__dotprod));
  return t;
}
#endif
#if PLE_BUILT_NEON && PLE_BUILT_DOTPROD && PLE_BUILT_I8MM
KernelTable make_i8mm_table() {
  KernelTable t = make_dotprod_table();
  t.isa = "i8mm";
  weight_slot(t, G::Q4_0).prefill_tile = tile_kernel(PLE_KERNEL(qtile_q4_0_q8_0_2x2__i8mm), 2, 2);
  weight_slot(t, G::Q8_0).prefill_tile = tile_kernel(PLE_KERNEL(qtile_q8_0_q8_0_2x2__i8mm), 2, 2);
  // smmla panels replace dotprod's (preferred over the tiles); packed groups build them too.
  weight_slot(t, G::Q4_0).prefill_panel = PanelKernel{qpanel_q4_0_q8_0__i8mm, pack_panel_q4_0__i8mm, panel_bytes_q4_0__i8mm, 8, "qpanel_q4_0_q8_0__i8mm"};
  weight_slot(t, G::Q4_1).prefill_panel = PanelKernel{qpanel_q4_1_q8_1__i8mm, pack_panel_q4_1__i8mm, panel_bytes_q4_1__i8mm, 8, "qpanel_q4_1_q8_1__i8mm"};
  weight_slot(t, G::Q8_0).prefill_panel = PanelKernel{qpanel_q8_0_q8_0__i8mm, pack_panel_q8_0__i8mm, panel_bytes_q8_0__i8mm, 8, "qpanel_q8_0_q8_0__i8mm"};
  weight_slot(t, G::Q4_0).packed.pack_panel = pack_panel_from_q4_0x8__i8mm;
  weight_slot(t, G::Q4_1).packed.pack_panel = pack_panel_from_q4_1x8__i8mm;
  weight_slot(t, G::Q8_0).packed.pack_panel = pack_panel_from_q8_0x8__i8mm;
  weight_slot(t, G::Q4_K).prefill_panel = PanelKernel{qpanel_q4_k_q8_k__i8mm, pack_panel_q4_k__i8mm, panel_bytes_q4_k__i8mm, 8, "qpanel_q4_k_q8_k__i8mm"};
  weight_slot(t, G::Q6_K).prefill_panel = PanelKernel{qpanel_q6_k_q8_k__i8mm, pack_panel_q6_k__i8mm, panel_bytes_q6_k__i8mm, 8, "qpanel_q6_k_q8_k__i8mm"};
  weight_slot(t, G::Q5_K).prefill_panel = PanelKernel{qpanel_q4_k_q8_k__i8mm, pack_panel_q5_k__i8mm, panel_bytes_q4_k__i8mm, 8, "qpanel_q4_k_q8_k__i8mm"};
  weight_slot(t, G::Q5_0).prefill_panel = PanelKernel{qpanel_q4_0_q8_0__i8mm, pack_panel_q5_0__i8mm, panel_bytes_q4_0__i8mm, 8, "qpanel_q4_0_q8_0__i8mm"};
  weight_slot(t, G::Q5_1).prefill_panel = PanelKernel{qpanel_q4_1_q8_1__i8mm, pack_panel_q5_1__i8mm, panel_bytes_q4_1__i8mm, 8, "qpanel_q4_1_q8_1__i8mm"};
  weight_slot(t, G::Q3_K).prefill_panel = PanelKernel{qpanel_q6_k_q8_k__i8mm, pack_panel_q3_k__i8mm, panel_bytes_q6_k__i8mm, 8, "qpanel_q6_k_q8_k__i8mm"};
  // Q2_K keeps dotprod's panel (its minimum terms have no smmla format yet).
  weight_slot(t, G::Q4_K).packed.pack_panel = pack_panel_from_q4_kx8__i8mm;
  weight_slot(t, G::Q6_K).packed.pack_panel = pack_panel_from_q6_kx8__i8mm;
  weight_slot(t, G::Q5_K).packed.pack_panel = pack_panel_from_q5_kx8__i8mm;
  return t;
}
#endif

}  // namespace ple::kernels
