// Prefill panels (8 rows) for Q4_0, Q4_1, Q8_0, Q5_0, Q5_1 (qpanel_arm.h) and the k-quants
// (qpanel_kquants_arm.h)
// on plain NEON: packing from the file's rows, the panel's size, and the token loop with widening
// multiplies. The dotprod table keeps the packing and replaces the token loop.
#include "kernels/arm/arm_kernels.h"
#include "kernels/arm/qpanel_arm.h"
#include "kernels/arm/qpanel_kquants_arm.h"

namespace ple::kernels {

size_t panel_bytes_q4_0__neon(int64_t n) { return panel_bytes<false>(n); }
void pack_panel_q4_0__neon(int64_t n, const void* w, size_t w_stride, void* panel) {
  pack_panel_from_nibble_rows<BlockQ4_0, false>(n, w, w_stride, panel);
}
void qpanel_q4_0_q8_0__neon(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out,
                            size_t out_stride) {
  panel_gemm<false, false, true>(n, panel, a, a_stride, n_tokens, out, out_stride);
}

size_t panel_bytes_q4_1__neon(int64_t n) { return panel_bytes<true>(n); }
void pack_panel_q4_1__neon(int64_t n, const void* w, size_t w_stride, void* panel) {
  pack_panel_from_nibble_rows<BlockQ4_1, true>(n, w, w_stride, panel);
}
void qpanel_q4_1_q8_1__neon(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out,
                            size_t out_stride) {
  panel_gemm<false, true, true>(n, panel, a, a_stride, n_tokens, out, out_stride);
}

size_t panel_bytes_q8_0__neon(int64_t n) { return panel_bytes<false>(n); }
void pack_panel_q8_0__neon(int64_t n, const void* w, size_t w_stride, void* panel) { pack_panel_from_q8_0_rows(n, w, w_stride, panel); }
void qpanel_q8_0_q8_0__neon(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out,
                            size_t out_stride) {
  panel_gemm<false, false, false>(n, panel, a, a_stride, n_tokens, out, out_stride);
}

// Q5_0 and Q5_1: Q4_0's and Q4_1's panel formats, packed from the file's rows; their table slots
// take Q4_0's and Q4_1's panel sizes and token loops (the quants, -16..15 and 0..31, stay within
// the int16 sums those NEON loops allow: rows4_dot).
void pack_panel_q5_0__neon(int64_t n, const void* w, size_t w_stride, void* panel) {
  pack_panel_from_q5_rows<BlockQ5_0, false>(n, w, w_stride, panel);
}
void pack_panel_q5_1__neon(int64_t n, const void* w, size_t w_stride, void* panel) {
  pack_panel_from_q5_rows<BlockQ5_1, true>(n, w, w_stride, panel);
}

size_t panel_bytes_q4_k__neon(int64_t n) { return static_cast<size_t>(n / kQK_K) * kQ4KPanelBytes; }
void pack_panel_q4_k__neon(int64_t n, const void* w, size_t w_stride, void* panel) {
  pack_k_panel_from_rows<kQ4KGroupBytes, kQ4KPanelBytes, pack_q4_k_block, expand_q4_k_block>(n, w, w_stride, panel);
}
void qpanel_q4_k_q8_k__neon(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out,
                            size_t out_stride) {
  k_panel_gemm<Q4KPanel, false>(n, panel, a, a_stride, n_tokens, out, out_stride);
}

// Q5_K: Q4_K's panel format (quants 0..31), packed from the file's rows; its table slot takes
// Q4_K's panel size and token loop.
void pack_panel_q5_k__neon(int64_t n, const void* w, size_t w_stride, void* panel) {
  pack_k_panel_from_rows<kQ5KGroupBytes, kQ4KPanelBytes, pack_q5_k_block, expand_q5_k_block>(n, w, w_stride, panel);
}

size_t panel_bytes_q6_k__neon(int64_t n) { return static_cast<size_t>(n / kQK_K) * kQ6KPanelBytes; }
void pack_panel_q6_k__neon(int64_t n, const void* w, size_t w_stride, void* panel) {
  pack_k_panel_from_rows<kQ6KGroupBytes, kQ6KPanelBytes, pack_q6_k_block, expand_q6_k_block>(n, w, w_stride, panel);
}
void qpanel_q6_k_q8_k__neon(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out,
                            size_t out_stride) {
  k_panel_gemm<Q6KPanel, false>(n, panel, a, a_stride, n_tokens, out, out_stride);
}

// Q3_K: Q6_K's panel format, packed from the file's rows; its slot takes Q6_K's size and token loop.
void pack_panel_q3_k__neon(int64_t n, const void* w, size_t w_stride, void* panel) {
  pack_k16_panel<kQ6KPanelBytes, pack_q3_k_panel_block>(n, w, w_stride, panel);
}

size_t panel_bytes_q2_k__neon(int64_t n) { return static_cast<size_t>(n / kQK_K) * kQ2KPanelBytes; }
void pack_panel_q2_k__neon(int64_t n, const void* w, size_t w_stride, void* panel) {
  pack_k16_panel<kQ2KPanelBytes, pack_q2_k_panel_block>(n, w, w_stride, panel);
}
void qpanel_q2_k_q8_k__neon(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out,
                            size_t out_stride) {
  k_panel_gemm<Q2KPanel, false>(n, panel, a, a_stride, n_tokens, out, out_stride);
}

}  // namespace ple::kernels
