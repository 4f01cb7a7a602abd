// Decode GEMVs over the packed-row layouts for dotprod (armv8.2-a+dotprod: Pi 5's Cortex-A76,
// Apple M1): one sdot by lane per four rows and four quants (qgemv_packed_arm.h). The layouts and
// their packing are the NEON table's (qgemv_packed_neon.cpp).
#include "kernels/arm/arm_kernels.h"
#include "kernels/arm/qgemv_packed_arm.h"

namespace ple::kernels {

void qgemv_q4_0x8_q8_0__dotprod(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  gemv_groups<Q4_0x8<true>>(n, groups, n_groups, a, out);
}
void qgemv_q4_1x8_q8_1__dotprod(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  gemv_groups<Q4_1x8<true>>(n, groups, n_groups, a, out);
}
void qgemv_q8_0x8_q8_0__dotprod(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  gemv_groups<Q8_0x8<true>>(n, groups, n_groups, a, out);
}

void qgemv_q4_kx8_q8_k__dotprod(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  gemv_groups<Q4_Kx8<true>>(n, groups, n_groups, a, out);
}

void qgemv_q5_kx8_q8_k__dotprod(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  gemv_groups<Q5_Kx8<true>>(n, groups, n_groups, a, out);
}

void qgemv_q6_kx8_q8_k__dotprod(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  gemv_groups<Q6_Kx8<true>>(n, groups, n_groups, a, out);
}

}  // namespace ple::kernels
