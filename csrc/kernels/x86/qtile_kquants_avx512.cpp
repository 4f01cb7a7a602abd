// The k-quant tiles of qtile_kquants_x86.h built for AVX-512 F/BW/VL + VNNI
// (cmake/isa_sources.cmake: PLE_AVX512_FLAGS), instantiated with Avx512Vnni (policy_avx512.h).
#include "kernels/x86/x86_kernels.h"
#include "kernels/x86/qtile_kquants_x86.h"
#include "kernels/x86/policy_avx512.h"

namespace ple::kernels {

void qtile_q4_k_q8_k_1x4__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q4_k_q8_k_1x4<Avx512Vnni>(n, w, ws, a, as, o);
}
void qtile_q4_k_q8_k_4x1__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q4_k_q8_k_4x1<Avx512Vnni>(n, w, ws, a, as, o);
}
void qtile_q5_k_q8_k_1x4__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q5_k_q8_k_1x4<Avx512Vnni>(n, w, ws, a, as, o);
}
void qtile_q5_k_q8_k_4x1__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q5_k_q8_k_4x1<Avx512Vnni>(n, w, ws, a, as, o);
}
void qtile_q6_k_q8_k_1x4__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q6_k_q8_k_1x4<Avx512Vnni>(n, w, ws, a, as, o);
}
void qtile_q6_k_q8_k_4x1__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q6_k_q8_k_4x1<Avx512Vnni>(n, w, ws, a, as, o);
}

}  // namespace ple::kernels
