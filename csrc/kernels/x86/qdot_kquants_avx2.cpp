// qdot_kquants_x86.inc built for AVX2 + FMA + F16C (cmake/isa_sources.cmake: PLE_AVX2_FLAGS).
#define PLE_X86_VNNI 0
#include "kernels/x86/qdot_kquants_x86.inc"

namespace ple::kernels {

float qdot_q2_k_q8_k__avx2(int64_t n, const void* w, const void* a) { return qdot_q2_k_q8_k(n, w, a); }
float qdot_q3_k_q8_k__avx2(int64_t n, const void* w, const void* a) { return qdot_q3_k_q8_k(n, w, a); }
float qdot_q4_k_q8_k__avx2(int64_t n, const void* w, const void* a) { return qdot_q4_k_q8_k(n, w, a); }
float qdot_q5_k_q8_k__avx2(int64_t n, const void* w, const void* a) { return qdot_q5_k_q8_k(n, w, a); }
float qdot_q6_k_q8_k__avx2(int64_t n, const void* w, const void* a) { return qdot_q6_k_q8_k(n, w, a); }

}  // namespace ple::kernels
