// qdot_legacy_x86.inc built for AVX-512 F/BW/VL + VNNI (PLE_AVX512_FLAGS): the same
// 256-bit code with EVEX encodings, 32 vector registers, and vpdpbusd where PLE_X86_VNNI selects it.
#define PLE_X86_VNNI 1
#include "kernels/x86/qdot_legacy_x86.inc"

namespace ple::kernels {

float qdot_q4_0_q8_0__avx512(int64_t n, const void* w, const void* a) { return qdot_q4_0_q8_0(n, w, a); }
float qdot_q5_0_q8_0__avx512(int64_t n, const void* w, const void* a) { return qdot_q5_0_q8_0(n, w, a); }
float qdot_q8_0_q8_0__avx512(int64_t n, const void* w, const void* a) { return qdot_q8_0_q8_0(n, w, a); }
float qdot_q4_1_q8_1__avx512(int64_t n, const void* w, const void* a) { return qdot_q4_1_q8_1(n, w, a); }
float qdot_q5_1_q8_1__avx512(int64_t n, const void* w, const void* a) { return qdot_q5_1_q8_1(n, w, a); }

}  // namespace ple::kernels
