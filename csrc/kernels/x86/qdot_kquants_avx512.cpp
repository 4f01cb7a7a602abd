// The k-quant dots of qdot_kquants_x86.h built for AVX-512 F/BW/VL + VNNI
// (cmake/isa_sources.cmake: PLE_AVX512_FLAGS), instantiated with Avx512Vnni (policy_avx512.h).
#include "kernels/x86/x86_kernels.h"
#include "kernels/x86/qdot_kquants_x86.h"
#include "kernels/x86/policy_avx512.h"

namespace ple::kernels {

float qdot_q2_k_q8_k__avx512(int64_t n, const void* w, const void* a) { return qdot_q2_k_q8_k<Avx512Vnni>(n, w, a); }
float qdot_q3_k_q8_k__avx512(int64_t n, const void* w, const void* a) { return qdot_q3_k_q8_k<Avx512Vnni>(n, w, a); }
float qdot_q4_k_q8_k__avx512(int64_t n, const void* w, const void* a) { return qdot_q4_k_q8_k<Avx512Vnni>(n, w, a); }
float qdot_q5_k_q8_k__avx512(int64_t n, const void* w, const void* a) { return qdot_q5_k_q8_k<Avx512Vnni>(n, w, a); }
float qdot_q6_k_q8_k__avx512(int64_t n, const void* w, const void* a) { return qdot_q6_k_q8_k<Avx512Vnni>(n, w, a); }

}  // namespace ple::kernels
