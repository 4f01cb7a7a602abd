// Declarations of the x86 SIMD kernels, one line each. Each kernel family is one header of
// templates over an ISA policy (<family>_x86.h, internal linkage), instantiated once per ISA by a
// thin <family>_<isa>.cpp with its policy (policy_<isa>.h), which defines the exported kernels
// below by name: *_avx2.cpp (AVX2 + FMA + F16C, Avx2), *_avx512.cpp (AVX-512 F/BW/VL/VNNI,
// Avx512Vnni). Same contracts as the __ref twins in kernels/ref/ref_kernels.h and the slot types
// of kernel_table.h. Only dispatch.cpp may take their addresses, and only after the CPU check.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ple::kernels {

// AVX2 + FMA + F16C
void quantize_row_q8_0__avx2(const float* x, void* y, int64_t n);
void quantize_row_q8_1__avx2(const float* x, void* y, int64_t n);
void quantize_row_q8_k__avx2(const float* x, void* y, int64_t n);
float qdot_f32_f32__avx2(int64_t n, const void* w, const void* a);
float qdot_f16_f32__avx2(int64_t n, const void* w, const void* a);
float qdot_bf16_f32__avx2(int64_t n, const void* w, const void* a);
float dot_f16_f32__avx2(int64_t n, const uint16_t* x, const float* y);
void axpy_f16__avx2(int64_t n, float a, const uint16_t* x, float* y);
void attend_scores_f16__avx2(int64_t n_rows, int64_t hd, const uint16_t* k, size_t row_stride, const float* q, size_t q_stride, int64_t n_q, float scale, float* scores, size_t scores_stride);
void attend_values_f16__avx2(int64_t n_rows, int64_t hd, const uint16_t* v, size_t row_stride, const float* s, size_t s_stride, int64_t n_q, float* out, size_t out_stride);
void axpy_q8_0__avx2(int64_t n, float a, const void* x, float* y);
void softmax__avx2(float* x, int64_t n);
void silu_mul__avx2(float* gate, const float* up, int64_t n);
float qdot_q4_0_q8_0__avx2(int64_t n, const void* w, const void* a);
float qdot_q5_0_q8_0__avx2(int64_t n, const void* w, const void* a);
float qdot_q8_0_q8_0__avx2(int64_t n, const void* w, const void* a);
float qdot_q4_1_q8_1__avx2(int64_t n, const void* w, const void* a);
float qdot_q5_1_q8_1__avx2(int64_t n, const void* w, const void* a);
void qtile_q4_0_q8_0_8x1__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q5_0_q8_0_8x1__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q8_0_q8_0_8x1__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q4_1_q8_1_8x1__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q5_1_q8_1_8x1__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q4_0_q8_0_4x4__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q5_0_q8_0_4x4__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q8_0_q8_0_4x3__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q4_1_q8_1_4x4__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q5_1_q8_1_4x4__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
float qdot_q2_k_q8_k__avx2(int64_t n, const void* w, const void* a);
float qdot_q3_k_q8_k__avx2(int64_t n, const void* w, const void* a);
float qdot_q4_k_q8_k__avx2(int64_t n, const void* w, const void* a);
float qdot_q5_k_q8_k__avx2(int64_t n, const void* w, const void* a);
float qdot_q6_k_q8_k__avx2(int64_t n, const void* w, const void* a);
void qtile_q4_k_q8_k_1x4__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q4_k_q8_k_4x1__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q5_k_q8_k_1x4__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q5_k_q8_k_4x1__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q6_k_q8_k_1x4__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q6_k_q8_k_4x1__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
size_t panel_bytes_q4_0__avx2(int64_t n);
void pack_panel_q4_0__avx2(int64_t n, const void* w, size_t w_stride, void* panel);
void qpanel_q4_0_q8_0__avx2(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride);
size_t panel_bytes_q4_1__avx2(int64_t n);
void pack_panel_q4_1__avx2(int64_t n, const void* w, size_t w_stride, void* panel);
void qpanel_q4_1_q8_1__avx2(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride);
size_t panel_bytes_q4_k__avx2(int64_t n);
void pack_panel_q4_k__avx2(int64_t n, const void* w, size_t w_stride, void* panel);
void qpanel_q4_k_q8_k__avx2(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride);
size_t panel_bytes_q6_k__avx2(int64_t n);
void pack_panel_q6_k__avx2(int64_t n, const void* w, size_t w_stride, void* panel);
void qpanel_q6_k_q8_k__avx2(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride);
size_t panel_bytes_q8_0__avx2(int64_t n);
void pack_panel_q8_0__avx2(int64_t n, const void* w, size_t w_stride, void* panel);
void qpanel_q8_0_q8_0__avx2(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride);
size_t packed_group_bytes_q4_0x8__avx2(int64_t n);
void pack_q4_0x8__avx2(int64_t n, const void* w, size_t w_stride, void* out_group);
void qgemv_q4_0x8_q8_0__avx2(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out);
void qgemv_tokens_q4_0x8_q8_0__avx2(int64_t n, const void* groups, int64_t n_groups, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride);
void pack_panel_from_q4_0x8__avx2(int64_t n, const void* group, size_t w_stride, void* panel);
size_t packed_group_bytes_q4_1x8__avx2(int64_t n);
void pack_q4_1x8__avx2(int64_t n, const void* w, size_t w_stride, void* out_group);
void qgemv_q4_1x8_q8_1__avx2(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out);
void qgemv_tokens_q4_1x8_q8_1__avx2(int64_t n, const void* groups, int64_t n_groups, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride);
void pack_panel_from_q4_1x8__avx2(int64_t n, const void* group, size_t w_stride, void* panel);
size_t packed_group_bytes_q8_0x8__avx2(int64_t n);
bool pack_accepts_q8_0x8__avx2(int64_t n, const void* w, size_t w_stride, int64_t rows);
void pack_q8_0x8__avx2(int64_t n, const void* w, size_t w_stride, void* out_group);
void qgemv_q8_0x8_q8_0__avx2(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out);
void qgemv_tokens_q8_0x8_q8_0__avx2(int64_t n, const void* groups, int64_t n_groups, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride);
void pack_panel_from_q8_0x8__avx2(int64_t n, const void* group, size_t w_stride, void* panel);
size_t packed_group_bytes_q4_kx8__avx2(int64_t n);
void pack_q4_kx8__avx2(int64_t n, const void* w, size_t w_stride, void* out_group);
void qgemv_q4_kx8_q8_k__avx2(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out);
void qgemv_tokens_q4_kx8_q8_k__avx2(int64_t n, const void* groups, int64_t n_groups, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride);
void pack_panel_from_q4_kx8__avx2(int64_t n, const void* group, size_t w_stride, void* panel);

// AVX-512 F/BW/VL + VNNI
void quantize_row_q8_0__avx512(const float* x, void* y, int64_t n);
void quantize_row_q8_1__avx512(const float* x, void* y, int64_t n);
void quantize_row_q8_k__avx512(const float* x, void* y, int64_t n);
float qdot_f32_f32__avx512(int64_t n, const void* w, const void* a);
float qdot_f16_f32__avx512(int64_t n, const void* w, const void* a);
float qdot_bf16_f32__avx512(int64_t n, const void* w, const void* a);
float dot_f16_f32__avx512(int64_t n, const uint16_t* x, const float* y);
void axpy_f16__avx512(int64_t n, float a, const uint16_t* x, float* y);
void attend_scores_f16__avx512(int64_t n_rows, int64_t hd, const uint16_t* k, size_t row_stride, const float* q, size_t q_stride, int64_t n_q, float scale, float* scores, size_t scores_stride);
void attend_values_f16__avx512(int64_t n_rows, int64_t hd, const uint16_t* v, size_t row_stride, const float* s, size_t s_stride, int64_t n_q, float* out, size_t out_stride);
void axpy_q8_0__avx512(int64_t n, float a, const void* x, float* y);
void softmax__avx512(float* x, int64_t n);
void silu_mul__avx512(float* gate, const float* up, int64_t n);
float qdot_q4_0_q8_0__avx512(int64_t n, const void* w, const void* a);
float qdot_q5_0_q8_0__avx512(int64_t n, const void* w, const void* a);
float qdot_q8_0_q8_0__avx512(int64_t n, const void* w, const void* a);
float qdot_q4_1_q8_1__avx512(int64_t n, const void* w, const void* a);
float qdot_q5_1_q8_1__avx512(int64_t n, const void* w, const void* a);
void qtile_q4_0_q8_0_8x1__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q5_0_q8_0_8x1__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q8_0_q8_0_8x1__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q4_1_q8_1_8x1__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q5_1_q8_1_8x1__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q4_0_q8_0_4x4__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q5_0_q8_0_4x4__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q8_0_q8_0_4x3__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q4_1_q8_1_4x4__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q5_1_q8_1_4x4__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
float qdot_q2_k_q8_k__avx512(int64_t n, const void* w, const void* a);
float qdot_q3_k_q8_k__avx512(int64_t n, const void* w, const void* a);
float qdot_q4_k_q8_k__avx512(int64_t n, const void* w, const void* a);
float qdot_q5_k_q8_k__avx512(int64_t n, const void* w, const void* a);
float qdot_q6_k_q8_k__avx512(int64_t n, const void* w, const void* a);
void qtile_q4_k_q8_k_1x4__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q4_k_q8_k_4x1__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q5_k_q8_k_1x4__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q5_k_q8_k_4x1__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q6_k_q8_k_1x4__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
void qtile_q6_k_q8_k_4x1__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
size_t panel_bytes_q4_0__avx512(int64_t n);
void pack_panel_q4_0__avx512(int64_t n, const void* w, size_t w_stride, void* panel);
void qpanel_q4_0_q8_0__avx512(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride);
size_t panel_bytes_q4_1__avx512(int64_t n);
void pack_panel_q4_1__avx512(int64_t n, const void* w, size_t w_stride, void* panel);
void qpanel_q4_1_q8_1__avx512(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride);
size_t panel_bytes_q4_k__avx512(int64_t n);
void pack_panel_q4_k__avx512(int64_t n, const void* w, size_t w_stride, void* panel);
void qpanel_q4_k_q8_k__avx512(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride);
size_t panel_bytes_q6_k__avx512(int64_t n);
void pack_panel_q6_k__avx512(int64_t n, const void* w, size_t w_stride, void* panel);
void qpanel_q6_k_q8_k__avx512(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride);
size_t panel_bytes_q8_0__avx512(int64_t n);
void pack_panel_q8_0__avx512(int64_t n, const void* w, size_t w_stride, void* panel);
void qpanel_q8_0_q8_0__avx512(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride);
size_t packed_group_bytes_q4_0x8__avx512(int64_t n);
void pack_q4_0x8__avx512(int64_t n, const void* w, size_t w_stride, void* out_group);
void qgemv_q4_0x8_q8_0__avx512(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out);
void qgemv_tokens_q4_0x8_q8_0__avx512(int64_t n, const void* groups, int64_t n_groups, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride);
void pack_panel_from_q4_0x8__avx512(int64_t n, const void* group, size_t w_stride, void* panel);
size_t packed_group_bytes_q4_1x8__avx512(int64_t n);
void pack_q4_1x8__avx512(int64_t n, const void* w, size_t w_stride, void* out_group);
void qgemv_q4_1x8_q8_1__avx512(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out);
void qgemv_tokens_q4_1x8_q8_1__avx512(int64_t n, const void* groups, int64_t n_groups, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride);
void pack_panel_from_q4_1x8__avx512(int64_t n, const void* group, size_t w_stride, void* panel);
size_t packed_group_bytes_q8_0x8__avx512(int64_t n);
bool pack_accepts_q8_0x8__avx512(int64_t n, const void* w, size_t w_stride, int64_t rows);
void pack_q8_0x8__avx512(int64_t n, const void* w, size_t w_stride, void* out_group);
void qgemv_q8_0x8_q8_0__avx512(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out);
void qgemv_tokens_q8_0x8_q8_0__avx512(int64_t n, const void* groups, int64_t n_groups, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride);
void pack_panel_from_q8_0x8__avx512(int64_t n, const void* group, size_t w_stride, void* panel);
size_t packed_group_bytes_q4_kx8__avx512(int64_t n);
void pack_q4_kx8__avx512(int64_t n, const void* w, size_t w_stride, void* out_group);
void qgemv_q4_kx8_q8_k__avx512(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out);
void qgemv_tokens_q4_kx8_q8_k__avx512(int64_t n, const void* groups, int64_t n_groups, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride);
void pack_panel_from_q4_kx8__avx512(int64_t n, const void* group, size_t w_stride, void* panel);

}  // namespace ple::kernels
