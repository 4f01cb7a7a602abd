// Prefill panel token loops for dotprod (qpanel_arm.h, qpanel_kquants_arm.h): three tokens per pass,
// one sdot by lane per four rows and four quants. The panels and their packing are the NEON
// table's (qpanel_neon.cpp).
#include "kernels/arm/arm_kernels.h"
#include "kernels/arm/qpanel_arm.h"
#include "kernels/arm/qpanel_kquants_arm.h"

namespace ple::kernels {

void qpanel_q4_0_q8_0__dotprod(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out,
                               size_t out_stride) {
  panel_gemm<true, false, true>(n, panel, a, a_stride, n_tokens, out, out_stride);
}
void qpanel_q4_1_q8_1__dotprod(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out,
                               size_t out_stride) {
  panel_gemm<true, true, true>(n, panel, a, a_stride, n_tokens, out, out_stride);
}
void qpanel_q8_0_q8_0__dotprod(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out,
                               size_t out_stride) {
  panel_gemm<true, false, false>(n, panel, a, a_stride, n_tokens, out, out_stride);
}

void qpanel_q4_k_q8_k__dotprod(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out,
                               size_t out_stride) {
  k_panel_gemm<Q4KPanel, true>(n, panel, a, a_stride, n_tokens, out, out_stride);
}
void qpanel_q6_k_q8_k__dotprod(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out,
                               size_t out_stride) {
  k_panel_gemm<Q6KPanel, true>(n, panel, a, a_stride, n_tokens, out, out_stride);
}

void qpanel_q2_k_q8_k__dotprod(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out,
                               size_t out_stride) {
  k_panel_gemm<Q2KPanel, true>(n, panel, a, a_stride, n_tokens, out, out_stride);
}

}  // namespace ple::kernels
