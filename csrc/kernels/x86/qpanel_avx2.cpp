// The prefill panels of qpanel_x86.h built for AVX2 + FMA + F16C
// (cmake/isa_sources.cmake: PLE_AVX2_FLAGS), instantiated with Avx2 (policy_avx2.h).
#include "kernels/x86/x86_kernels.h"
#include "kernels/x86/qpanel_x86.h"
#include "kernels/x86/policy_avx2.h"

namespace ple::kernels {

size_t panel_bytes_q4_0__avx2(int64_t n) { return panel_bytes_q4_0<Avx2>(n); }
void pack_panel_q4_0__avx2(int64_t n, const void* w, size_t w_stride, void* panel) {
  pack_panel_q4_0<Avx2>(n, w, w_stride, panel);
}
void qpanel_q4_0_q8_0__avx2(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride) {
  qpanel_q4_0_q8_0<Avx2>(n, panel, a, a_stride, n_tokens, out, out_stride);
}
size_t panel_bytes_q4_1__avx2(int64_t n) { return panel_bytes_q4_1<Avx2>(n); }
void pack_panel_q4_1__avx2(int64_t n, const void* w, size_t w_stride, void* panel) {
  pack_panel_q4_1<Avx2>(n, w, w_stride, panel);
}
void qpanel_q4_1_q8_1__avx2(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride) {
  qpanel_q4_1_q8_1<Avx2>(n, panel, a, a_stride, n_tokens, out, out_stride);
}
size_t panel_bytes_q4_k__avx2(int64_t n) { return panel_bytes_q4_k<Avx2>(n); }
void pack_panel_q4_k__avx2(int64_t n, const void* w, size_t w_stride, void* panel) {
  pack_panel_q4_k<Avx2>(n, w, w_stride, panel);
}
void qpanel_q4_k_q8_k__avx2(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride) {
  qpanel_q4_k_q8_k<Avx2>(n, panel, a, a_stride, n_tokens, out, out_stride);
}
size_t panel_bytes_q6_k__avx2(int64_t n) { return panel_bytes_q6_k<Avx2>(n); }
void pack_panel_q6_k__avx2(int64_t n, const void* w, size_t w_stride, void* panel) {
  pack_panel_q6_k<Avx2>(n, w, w_stride, panel);
}
void qpanel_q6_k_q8_k__avx2(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride) {
  qpanel_q6_k_q8_k<Avx2>(n, panel, a, a_stride, n_tokens, out, out_stride);
}
size_t panel_bytes_q8_0__avx2(int64_t n) { return panel_bytes_q8_0<Avx2>(n); }
void pack_panel_q8_0__avx2(int64_t n, const void* w, size_t w_stride, void* panel) {
  pack_panel_q8_0<Avx2>(n, w, w_stride, panel);
}
void qpanel_q8_0_q8_0__avx2(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride) {
  qpanel_q8_0_q8_0<Avx2>(n, panel, a, a_stride, n_tokens, out, out_stride);
}

}  // namespace ple::kernels
