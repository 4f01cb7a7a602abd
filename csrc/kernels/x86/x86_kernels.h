// Declarations of the x86 SIMD kernels; each ISA's definitions live in its own files
// (*_avx2.cpp: AVX2 + FMA + F16C; *_avx512.cpp: AVX-512 F/BW/VL/VNNI), most of them one
// source (*_x86.inc) built once per ISA. Same contracts as the
// __ref twins in kernels/ref/ref_kernels.h. Only dispatch.cpp may take their addresses, and only
// after the CPU check.
#pragma once
#include <cstddef>
#include <cstdint>

#define PLE_DECLARE_X86_KERNELS(isa)                                                  \
  float qdot_f32_f32__##isa(int64_t n, const void* w, const void* a);                 \
  float qdot_f16_f32__##isa(int64_t n, const void* w, const void* a);                 \
  float qdot_bf16_f32__##isa(int64_t n, const void* w, const void* a);                \
  float qdot_q4_0_q8_0__##isa(int64_t n, const void* w, const void* a);               \
  float qdot_q5_0_q8_0__##isa(int64_t n, const void* w, const void* a);               \
  float qdot_q8_0_q8_0__##isa(int64_t n, const void* w, const void* a);               \
  float qdot_q4_1_q8_1__##isa(int64_t n, const void* w, const void* a);               \
  float qdot_q5_1_q8_1__##isa(int64_t n, const void* w, const void* a);               \
  float qdot_q2_k_q8_k__##isa(int64_t n, const void* w, const void* a);               \
  float qdot_q3_k_q8_k__##isa(int64_t n, const void* w, const void* a);               \
  float qdot_q4_k_q8_k__##isa(int64_t n, const void* w, const void* a);               \
  float qdot_q5_k_q8_k__##isa(int64_t n, const void* w, const void* a);               \
  float qdot_q6_k_q8_k__##isa(int64_t n, const void* w, const void* a);               \
  void quantize_row_q8_0__##isa(const float* x, void* y, int64_t n);                  \
  void quantize_row_q8_1__##isa(const float* x, void* y, int64_t n);                  \
  void quantize_row_q8_k__##isa(const float* x, void* y, int64_t n);                  \
  float dot_f16_f32__##isa(int64_t n, const uint16_t* x, const float* y);             \
  void axpy_f16__##isa(int64_t n, float a, const uint16_t* x, float* y);               \
  void axpy_q8_0__##isa(int64_t n, float a, const void* x, float* y);

// The kernel families built for both AVX2 and AVX-512 VNNI (*_x86.inc): multi-row tiles
// (kernel_table.h, DotTileFn) of the legacy formats, 8 rows x 1 token for decode and R rows x T
// tokens for prefill; the k-quant tiles, 1 row x 4 tokens (prefill) and 4 rows x 1 token
// (decode); prefill panels (PanelKernel); load-time interleaved rows (PackedKernels); and
// grouped-query attention over the F16 KV cache (AttendScoresF16Fn / AttendValuesF16Fn).
#define PLE_DECLARE_X86_TILES(isa, type, act, R, T)                                                        \
  void qtile_##type##_##act##_8x1__##isa(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o); \
  void qtile_##type##_##act##_##R##x##T##__##isa(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
#define PLE_DECLARE_X86_KQUANT_TILES(isa, type)                                                                \
  void qtile_##type##_q8_k_1x4__##isa(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o); \
  void qtile_##type##_q8_k_4x1__##isa(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o);
#define PLE_DECLARE_X86_PANEL(isa, type, act)                                                           \
  size_t panel_bytes_##type##__##isa(int64_t n);                                                        \
  void pack_panel_##type##__##isa(int64_t n, const void* w, size_t w_stride, void* panel);              \
  void qpanel_##type##_##act##__##isa(int64_t n, const void* panel, const void* a, size_t a_stride, \
                                          int64_t n_tokens, float* out, size_t out_stride);
#define PLE_DECLARE_X86_INTERLEAVED(isa, type, act)                                                              \
  size_t packed_group_bytes_##type##x8__##isa(int64_t n);                                                   \
  void pack_##type##x8__##isa(int64_t n, const void* w, size_t w_stride, void* out_group);                 \
  void qgemv_##type##x8_##act##__##isa(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out); \
  void pack_panel_from_##type##x8__##isa(int64_t n, const void* group, size_t w_stride, void* panel);
#define PLE_DECLARE_X86_FAMILIES(isa)                                                                             \
  PLE_DECLARE_X86_TILES(isa, q4_0, q8_0, 4, 4)                                                                    \
  PLE_DECLARE_X86_TILES(isa, q5_0, q8_0, 4, 4)                                                                    \
  PLE_DECLARE_X86_TILES(isa, q8_0, q8_0, 4, 3)                                                                    \
  PLE_DECLARE_X86_TILES(isa, q4_1, q8_1, 4, 4)                                                                    \
  PLE_DECLARE_X86_TILES(isa, q5_1, q8_1, 4, 4)                                                                    \
  PLE_DECLARE_X86_KQUANT_TILES(isa, q4_k)                                                                         \
  PLE_DECLARE_X86_KQUANT_TILES(isa, q5_k)                                                                         \
  PLE_DECLARE_X86_KQUANT_TILES(isa, q6_k)                                                                         \
  PLE_DECLARE_X86_PANEL(isa, q4_0, q8_0)                                                                          \
  PLE_DECLARE_X86_PANEL(isa, q4_1, q8_1)                                                                          \
  PLE_DECLARE_X86_PANEL(isa, q8_0, q8_0)                                                                          \
  PLE_DECLARE_X86_PANEL(isa, q4_k, q8_k)                                                                          \
  PLE_DECLARE_X86_PANEL(isa, q6_k, q8_k)                                                                          \
  PLE_DECLARE_X86_INTERLEAVED(isa, q4_0, q8_0)                                                                    \
  PLE_DECLARE_X86_INTERLEAVED(isa, q4_1, q8_1)                                                                    \
  PLE_DECLARE_X86_INTERLEAVED(isa, q8_0, q8_0)                                                                    \
  bool pack_accepts_q8_0x8__##isa(int64_t n, const void* w, size_t w_stride, int64_t rows);                \
  PLE_DECLARE_X86_INTERLEAVED(isa, q4_k, q8_k)                                                                    \
  void attend_scores_f16__##isa(int64_t n_rows, int64_t hd, const uint16_t* k, size_t row_stride, const float* q, \
                                size_t q_stride, int64_t n_q, float scale, float* scores, size_t scores_stride);  \
  void attend_values_f16__##isa(int64_t n_rows, int64_t hd, const uint16_t* v, size_t row_stride, const float* s, \
                                size_t s_stride, int64_t n_q, float* out, size_t out_stride);

namespace ple::kernels {
PLE_DECLARE_X86_KERNELS(avx2)
PLE_DECLARE_X86_KERNELS(avx512)
PLE_DECLARE_X86_FAMILIES(avx2)
PLE_DECLARE_X86_FAMILIES(avx512)
}  // namespace ple::kernels

#undef PLE_DECLARE_X86_TILES
#undef PLE_DECLARE_X86_KQUANT_TILES
#undef PLE_DECLARE_X86_PANEL
#undef PLE_DECLARE_X86_INTERLEAVED
#undef PLE_DECLARE_X86_FAMILIES
#undef PLE_DECLARE_X86_KERNELS
