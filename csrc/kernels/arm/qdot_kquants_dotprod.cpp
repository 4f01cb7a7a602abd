// dotprod (armv8.2-a+dotprod) dots of the k-quants against Q8_K: sdot sums four exact int8
// products per int32 lane. Structure: qdot_kquants_arm.h.
#include "kernels/arm/arm_kernels.h"
#include "kernels/arm/qdot_kquants_arm.h"

namespace ple::kernels {
namespace {

struct DotProd {
  static int32x4_t dot16(int32x4_t acc, int8x16_t x, int8x16_t y) { return vdotq_s32(acc, x, y); }
};

}  // namespace

float qdot_q2_k_q8_k__dotprod(int64_t n, const void* w, const void* a) { return dot_q2_k<DotProd>(n, w, a); }
float qdot_q3_k_q8_k__dotprod(int64_t n, const void* w, const void* a) { return dot_q3_k<DotProd>(n, w, a); }
float qdot_q4_k_q8_k__dotprod(int64_t n, const void* w, const void* a) { return dot_q4_k<DotProd>(n, w, a); }
float qdot_q5_k_q8_k__dotprod(int64_t n, const void* w, const void* a) { return dot_q5_k<DotProd>(n, w, a); }
float qdot_q6_k_q8_k__dotprod(int64_t n, const void* w, const void* a) { return dot_q6_k<DotProd>(n, w, a); }

// Q5_K's decode tile (4 rows x 1 token), for models loaded without packed layouts.
void qtile_q5_k_q8_k_4x1__dotprod(int64_t n, const void* w, size_t w_stride, const void* a, size_t /*a_stride*/, float* out) {
  tile_q5_k_4x1<DotProd>(n, w, w_stride, a, out);
}

}  // namespace ple::kernels
