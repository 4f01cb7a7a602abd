// NEON (armv8-a) dots of the k-quants against Q8_K: widening multiplies (smull, one exact int16
// product per lane) accumulated pairwise into int32 (sadalp). Structure: qdot_kquants_arm.h.
#include "kernels/arm/arm_kernels.h"
#include "kernels/arm/qdot_kquants_arm.h"

namespace ple::kernels {
namespace {

struct Neon {
  static int32x4_t dot16(int32x4_t acc, int8x16_t x, int8x16_t y) {
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(x), vget_low_s8(y)));
    return vpadalq_s16(acc, vmull_high_s8(x, y));
  }
};

}  // namespace

float qdot_q2_k_q8_k__neon(int64_t n, const void* w, const void* a) { return dot_q2_k<Neon>(n, w, a); }
float qdot_q3_k_q8_k__neon(int64_t n, const void* w, const void* a) { return dot_q3_k<Neon>(n, w, a); }
float qdot_q4_k_q8_k__neon(int64_t n, const void* w, const void* a) { return dot_q4_k<Neon>(n, w, a); }
float qdot_q5_k_q8_k__neon(int64_t n, const void* w, const void* a) { return dot_q5_k<Neon>(n, w, a); }
float qdot_q6_k_q8_k__neon(int64_t n, const void* w, const void* a) { return dot_q6_k<Neon>(n, w, a); }

// Q5_K's decode tile (4 rows x 1 token), for models loaded without packed layouts.
void qtile_q5_k_q8_k_4x1__neon(int64_t n, const void* w, size_t w_stride, const void* a, size_t /*a_stride*/, float* out) {
  tile_q5_k_4x1<Neon>(n, w, w_stride, a, out);
}

}  // namespace ple::kernels
