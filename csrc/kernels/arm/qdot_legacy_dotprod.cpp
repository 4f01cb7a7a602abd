// dotprod (armv8.2-a+dotprod) dots of the 32-element block formats: sdot sums four int8 products
// into each int32 lane in one instruction (exact). Shared structure and the float part:
// qdot_legacy_arm.h.
#include "kernels/arm/arm_kernels.h"
#include "kernels/arm/qdot_legacy_arm.h"

namespace ple::kernels {
namespace {

struct DotProd {
  static int32x4_t dot16(int32x4_t acc, int8x16_t x, int8x16_t y) { return vdotq_s32(acc, x, y); }
};

}  // namespace

float qdot_q4_0_q8_0__dotprod(int64_t n, const void* w, const void* a) { return dot_q4_0<DotProd>(n, w, a); }
float qdot_q5_0_q8_0__dotprod(int64_t n, const void* w, const void* a) { return dot_q5_0<DotProd>(n, w, a); }
float qdot_q8_0_q8_0__dotprod(int64_t n, const void* w, const void* a) { return dot_q8_0<DotProd>(n, w, a); }
float qdot_q4_1_q8_1__dotprod(int64_t n, const void* w, const void* a) { return dot_q4_1<DotProd>(n, w, a); }
float qdot_q5_1_q8_1__dotprod(int64_t n, const void* w, const void* a) { return dot_q5_1<DotProd>(n, w, a); }

// Decode tiles for the formats without a packed layout (Q5_0, Q5_1): 4 rows x 1 token.
void qtile_q5_0_q8_0_4x1__dotprod(int64_t n, const void* w, size_t w_stride, const void* a, size_t /*a_stride*/, float* out) {
  dot_rows4<DotProd, BlockQ5_0, BlockQ8_0, false>(n, w, w_stride, a, out, Q5_0Quants{});
}
void qtile_q5_1_q8_1_4x1__dotprod(int64_t n, const void* w, size_t w_stride, const void* a, size_t /*a_stride*/, float* out) {
  dot_rows4<DotProd, BlockQ5_1, BlockQ8_1, true>(n, w, w_stride, a, out, Q5_1Quants{});
}

}  // namespace ple::kernels
