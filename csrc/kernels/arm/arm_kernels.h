// Declarations of the AArch64 SIMD kernels; each tier's definitions live in its own files, built
// with their own flags (cmake/isa_sources.cmake):
//   *_neon.cpp       armv8-a AdvSIMD (every AArch64 CPU: Pi 4's Cortex-A72)   kernels __neon
//   *_dotprod.cpp    armv8.2-a + dotprod (sdot: Pi 5's Cortex-A76, Apple M1) kernels __dotprod
//   *_i8mm.cpp       armv8.2-a + dotprod + i8mm (smmla: Apple M2+, Neoverse V1/N2) kernels __i8mm
// Same contracts as the __ref twins in kernels/ref/ref_kernels.h. Only dispatch.cpp may take
// their addresses, and only after the CPU check.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ple::kernels {

// NEON: every dot, quantizer, attention kernel and activation.
float qdot_f32_f32__neon(int64_t n, const void* w, const void* a);
float qdot_f16_f32__neon(int64_t n, const void* w, const void* a);
float qdot_bf16_f32__neon(int64_t n, const void* w, const void* a);
float dot_f16_f32__neon(int64_t n, const uint16_t* x, const float* y);
void axpy_f16__neon(int64_t n, float a, const uint16_t* x, float* y);
void axpy_q8_0__neon(int64_t n, float a, const void* x, float* y);
void attend_scores_f16__neon(int64_t n_rows, int64_t hd, const uint16_t* k, size_t row_stride, const float* q,
                             size_t q_stride, int64_t n_q, float scale, float* scores, size_t scores_stride);
void attend_values_f16__neon(int64_t n_rows, int64_t hd, const uint16_t* v, size_t row_stride, const float* s,
                             size_t s_stride, int64_t n_q, float* out, size_t out_stride);
void softmax__neon(float* x, int64_t n);
void silu_mul__neon(float* gate, const float* up, int64_t n);
void quantize_row_q8_0__neon(const float* x, void* y, int64_t n);
void quantize_row_q8_1__neon(const float* x, void* y, int64_t n);
void quantize_row_q8_k__neon(const float* x, void* y, int64_t n);

// The integer dots, in the NEON tier (widening multiplies) and the dotprod tier (sdot).
#define PLE_DECLARE_ARM_INT_DOTS(isa)                                   \
  float qdot_q4_0_q8_0__##isa(int64_t n, const void* w, const void* a); \
  float qdot_q5_0_q8_0__##isa(int64_t n, const void* w, const void* a); \
  float qdot_q8_0_q8_0__##isa(int64_t n, const void* w, const void* a); \
  float qdot_q4_1_q8_1__##isa(int64_t n, const void* w, const void* a); \
  float qdot_q5_1_q8_1__##isa(int64_t n, const void* w, const void* a); \
  float qdot_q2_k_q8_k__##isa(int64_t n, const void* w, const void* a); \
  float qdot_q3_k_q8_k__##isa(int64_t n, const void* w, const void* a); \
  float qdot_q4_k_q8_k__##isa(int64_t n, const void* w, const void* a); \
  float qdot_q5_k_q8_k__##isa(int64_t n, const void* w, const void* a); \
  float qdot_q6_k_q8_k__##isa(int64_t n, const void* w, const void* a);
PLE_DECLARE_ARM_INT_DOTS(neon)
PLE_DECLARE_ARM_INT_DOTS(dotprod)
#undef PLE_DECLARE_ARM_INT_DOTS

// Decode tiles (DotTileFn, 4 rows x 1 token) for the block formats without a packed layout.
#define PLE_DECLARE_ARM_DECODE_TILES(isa)                                                                                   \
  void qtile_q5_0_q8_0_4x1__##isa(int64_t n, const void* w, size_t w_stride, const void* a, size_t a_stride, float* out); \
  void qtile_q5_1_q8_1_4x1__##isa(int64_t n, const void* w, size_t w_stride, const void* a, size_t a_stride, float* out); \
  void qtile_q5_k_q8_k_4x1__##isa(int64_t n, const void* w, size_t w_stride, const void* a, size_t a_stride, float* out);
PLE_DECLARE_ARM_DECODE_TILES(neon)
PLE_DECLARE_ARM_DECODE_TILES(dotprod)
#undef PLE_DECLARE_ARM_DECODE_TILES

// Packed-row layouts of 8 rows (qpacked_core_arm.h): NEON packs them and builds their panels;
// each tier has its GEMVs (PackedKernels).
#define PLE_DECLARE_ARM_PACKED_GEMVS(isa)                                                                  \
  void qgemv_q4_0x8_q8_0__##isa(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out); \
  void qgemv_q4_1x8_q8_1__##isa(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out); \
  void qgemv_q8_0x8_q8_0__##isa(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out); \
  void qgemv_q4_kx8_q8_k__##isa(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out); \
  void qgemv_q5_kx8_q8_k__##isa(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out); \
  void qgemv_q6_kx8_q8_k__##isa(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out);
PLE_DECLARE_ARM_PACKED_GEMVS(neon)
PLE_DECLARE_ARM_PACKED_GEMVS(dotprod)
#undef PLE_DECLARE_ARM_PACKED_GEMVS
size_t packed_group_bytes_q4_0x8__neon(int64_t n);
size_t packed_group_bytes_q4_1x8__neon(int64_t n);
size_t packed_group_bytes_q8_0x8__neon(int64_t n);
size_t packed_group_bytes_q4_kx8__neon(int64_t n);
void pack_q4_kx8__neon(int64_t n, const void* w, size_t w_stride, void* out_group);
void pack_panel_from_q4_kx8__neon(int64_t n, const void* group, size_t w_stride, void* panel);
size_t packed_group_bytes_q5_kx8__neon(int64_t n);
void pack_q5_kx8__neon(int64_t n, const void* w, size_t w_stride, void* out_group);
void pack_panel_from_q5_kx8__neon(int64_t n, const void* group, size_t w_stride, void* panel);
size_t packed_group_bytes_q6_kx8__neon(int64_t n);
void pack_q6_kx8__neon(int64_t n, const void* w, size_t w_stride, void* out_group);
void pack_panel_from_q6_kx8__neon(int64_t n, const void* group, size_t w_stride, void* panel);
void pack_q4_0x8__neon(int64_t n, const void* w, size_t w_stride, void* out_group);
void pack_q4_1x8__neon(int64_t n, const void* w, size_t w_stride, void* out_group);
void pack_q8_0x8__neon(int64_t n, const void* w, size_t w_stride, void* out_group);
void pack_panel_from_q4_0x8__neon(int64_t n, const void* group, size_t w_stride, void* panel);
void pack_panel_from_q4_1x8__neon(int64_t n, const void* group, size_t w_stride, void* panel);
void pack_panel_from_q8_0x8__neon(int64_t n, const void* group, size_t w_stride, void* panel);

// Prefill panels of 8 rows (qpanel_arm.h): NEON packs them; each tier has its token loop.
#define PLE_DECLARE_ARM_PANELS(isa)                                                                                      \
  void qpanel_q4_0_q8_0__##isa(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, \
                               size_t out_stride);                                                                       \
  void qpanel_q4_1_q8_1__##isa(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, \
                               size_t out_stride);                                                                       \
  void qpanel_q8_0_q8_0__##isa(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, \
                               size_t out_stride);                                                                       \
  void qpanel_q4_k_q8_k__##isa(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, \
                               size_t out_stride);                                                                       \
  void qpanel_q6_k_q8_k__##isa(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, \
                               size_t out_stride);                                                                       \
  void qpanel_q2_k_q8_k__##isa(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, \
                               size_t out_stride);
PLE_DECLARE_ARM_PANELS(neon)
PLE_DECLARE_ARM_PANELS(dotprod)
#undef PLE_DECLARE_ARM_PANELS
size_t panel_bytes_q4_0__neon(int64_t n);
size_t panel_bytes_q4_1__neon(int64_t n);
size_t panel_bytes_q8_0__neon(int64_t n);
size_t panel_bytes_q4_k__neon(int64_t n);
void pack_panel_q4_k__neon(int64_t n, const void* w, size_t w_stride, void* panel);
size_t panel_bytes_q6_k__neon(int64_t n);
void pack_panel_q6_k__neon(int64_t n, const void* w, size_t w_stride, void* panel);
void pack_panel_q5_k__neon(int64_t n, const void* w, size_t w_stride, void* panel);
void pack_panel_q4_0__neon(int64_t n, const void* w, size_t w_stride, void* panel);
void pack_panel_q4_1__neon(int64_t n, const void* w, size_t w_stride, void* panel);
void pack_panel_q8_0__neon(int64_t n, const void* w, size_t w_stride, void* panel);
// Q2_K, Q3_K (Q6_K's format), from file rows.
size_t panel_bytes_q2_k__neon(int64_t n);
void pack_panel_q2_k__neon(int64_t n, const void* w, size_t w_stride, void* panel);
void pack_panel_q3_k__neon(int64_t n, const void* w, size_t w_stride, void* panel);
// Q5_0 and Q5_1: Q4_0's and Q4_1's panel formats, from file rows.
void pack_panel_q5_0__neon(int64_t n, const void* w, size_t w_stride, void* panel);
void pack_panel_q5_1__neon(int64_t n, const void* w, size_t w_stride, void* panel);

// i8mm: prefill panels of 8 rows with smmla (qpanel_i8mm.cpp), built from file rows or from the
// packed groups above.
#define PLE_DECLARE_I8MM_PANEL(type, act)                                                                                 \
  size_t panel_bytes_##type##__i8mm(int64_t n);                                                                          \
  void pack_panel_##type##__i8mm(int64_t n, const void* w, size_t w_stride, void* panel);                                \
  void pack_panel_from_##type##x8__i8mm(int64_t n, const void* group, size_t w_stride, void* panel);                     \
  void qpanel_##type##_##act##__i8mm(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, \
                                     size_t out_stride);
PLE_DECLARE_I8MM_PANEL(q4_0, q8_0)
PLE_DECLARE_I8MM_PANEL(q4_1, q8_1)
PLE_DECLARE_I8MM_PANEL(q8_0, q8_0)
PLE_DECLARE_I8MM_PANEL(q4_k, q8_k)  // qpanel_kquants_i8mm.cpp
PLE_DECLARE_I8MM_PANEL(q6_k, q8_k)
// Q3_K, Q5_0, Q5_1 (from file rows only) and Q5_K, into Q6_K's, Q4_0's, Q4_1's and Q4_K's panels.
void pack_panel_q3_k__i8mm(int64_t n, const void* w, size_t w_stride, void* panel);
void pack_panel_q5_0__i8mm(int64_t n, const void* w, size_t w_stride, void* panel);
void pack_panel_q5_1__i8mm(int64_t n, const void* w, size_t w_stride, void* panel);
void pack_panel_q5_k__i8mm(int64_t n, const void* w, size_t w_stride, void* panel);
void pack_panel_from_q5_kx8__i8mm(int64_t n, const void* group, size_t w_stride, void* panel);
#undef PLE_DECLARE_I8MM_PANEL

// i8mm: 2x2 prefill tiles (DotTileFn, 2 rows x 2 tokens) with smmla.
void qtile_q4_0_q8_0_2x2__i8mm(int64_t n, const void* w, size_t w_stride, const void* a, size_t a_stride, float out[4]);
void qtile_q8_0_q8_0_2x2__i8mm(int64_t n, const void* w, size_t w_stride, const void* a, size_t a_stride, float out[4]);

}  // namespace ple::kernels
