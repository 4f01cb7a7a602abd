// NEON (armv8-a) dots of the 32-element block formats: widening multiplies (smull, int8 x int8 ->
// int16, exact: |product| <= 128 * 128) and pairwise accumulation into int32 (sadalp). Each int16
// lane holds one product, so Q8_0's -128 x -128 cannot overflow. Shared structure and the float
// part: qdot_legacy_arm.h.
#include "kernels/arm/arm_kernels.h"
#include "kernels/arm/qdot_legacy_arm.h"

namespace ple::kernels {
namespace {

struct Neon {
  static int32x4_t dot16(int32x4_t acc, int8x16_t x, int8x16_t y) {
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(x), vget_low_s8(y)));
    return vpadalq_s16(acc, vmull_high_s8(x, y));
  }
};

}  // namespace

float qdot_q4_0_q8_0__neon(int64_t n, const void* w, const void* a) { return dot_q4_0<Neon>(n, w, a); }
float qdot_q5_0_q8_0__neon(int64_t n, const void* w, const void* a) { return dot_q5_0<Neon>(n, w, a); }
float qdot_q8_0_q8_0__neon(int64_t n, const void* w, const void* a) { return dot_q8_0<Neon>(n, w, a); }
float qdot_q4_1_q8_1__neon(int64_t n, const void* w, const void* a) { return dot_q4_1<Neon>(n, w, a); }
float qdot_q5_1_q8_1__neon(int64_t n, const void* w, const void* a) { return dot_q5_1<Neon>(n, w, a); }

// Decode tiles for the formats without a packed layout (Q5_0, Q5_1): 4 rows x 1 token.
void qtile_q5_0_q8_0_4x1__neon(int64_t n, const void* w, size_t w_stride, const void* a, size_t /*a_stride*/, float* out) {
  dot_rows4<Neon, BlockQ5_0, BlockQ8_0, false>(n, w, w_stride, a, out, Q5_0Quants{});
}
void qtile_q5_1_q8_1_4x1__neon(int64_t n, const void* w, size_t w_stride, const void* a, size_t /*a_stride*/, float* out) {
  dot_rows4<Neon, BlockQ5_1, BlockQ8_1, true>(n, w, w_stride, a, out, Q5_1Quants{});
}

}  // namespace ple::kernels
