// qdot_kquants_x86.inc built for AVX-512 F/BW/VL + VNNI (PLE_AVX512_FLAGS): the same
// 256-bit code with EVEX encodings, 32 vector registers, and vpdpbusd where PLE_X86_VNNI selects it.
#define PLE_X86_VNNI 1
#include "kernels/x86/qdot_kquants_x86.inc"

namespace ple::kernels {

float qdot_q2_k_q8_k__avx512(int64_t n, const void* w, const void* a) { return qdot_q2_k_q8_k(n, w, a); }
float qdot_q3_k_q8_k__avx512(int64_t n, const void* w, const void* a) { return qdot_q3_k_q8_k(n, w, a); }
float qdot_q4_k_q8_k__avx512(int64_t n, const void* w, const void* a) { return qdot_q4_k_q8_k(n, w, a); }
float qdot_q5_k_q8_k__avx512(int64_t n, const void* w, const void* a) { return qdot_q5_k_q8_k(n, w, a); }
float qdot_q6_k_q8_k__avx512(int64_t n, const void* w, const void* a) { return qdot_q6_k_q8_k(n, w, a); }

}  // namespace ple::kernels
