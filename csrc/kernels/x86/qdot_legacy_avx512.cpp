// The dots of qdot_legacy_x86.h built for AVX-512 F/BW/VL + VNNI
// (cmake/isa_sources.cmake: PLE_AVX512_FLAGS), instantiated with Avx512Vnni (policy_avx512.h).
#include "kernels/x86/x86_kernels.h"
#include "kernels/x86/qdot_legacy_x86.h"
#include "kernels/x86/policy_avx512.h"

namespace ple::kernels {

float qdot_q4_0_q8_0__avx512(int64_t n, const void* w, const void* a) { return qdot_q4_0_q8_0<Avx512Vnni>(n, w, a); }
float qdot_q5_0_q8_0__avx512(int64_t n, const void* w, const void* a) { return qdot_q5_0_q8_0<Avx512Vnni>(n, w, a); }
float qdot_q8_0_q8_0__avx512(int64_t n, const void* w, const void* a) { return qdot_q8_0_q8_0<Avx512Vnni>(n, w, a); }
float qdot_q4_1_q8_1__avx512(int64_t n, const void* w, const void* a) { return qdot_q4_1_q8_1<Avx512Vnni>(n, w, a); }
float qdot_q5_1_q8_1__avx512(int64_t n, const void* w, const void* a) { return qdot_q5_1_q8_1<Avx512Vnni>(n, w, a); }

}  // namespace ple::kernels
