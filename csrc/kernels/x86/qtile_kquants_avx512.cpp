// qtile_kquants_x86.inc built for AVX-512 F/BW/VL + VNNI (PLE_AVX512_FLAGS): the same
// 256-bit code with EVEX encodings, 32 vector registers, and vpdpbusd where PLE_X86_VNNI selects it.
#define PLE_X86_VNNI 1
#include "kernels/x86/qtile_kquants_x86.inc"

namespace ple::kernels {

void qtile_q4_k_q8_k_1x4__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q4_k_q8_k_1x4(n, w, ws, a, as, o);
}
void qtile_q4_k_q8_k_4x1__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q4_k_q8_k_4x1(n, w, ws, a, as, o);
}
void qtile_q5_k_q8_k_1x4__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q5_k_q8_k_1x4(n, w, ws, a, as, o);
}
void qtile_q5_k_q8_k_4x1__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q5_k_q8_k_4x1(n, w, ws, a, as, o);
}
void qtile_q6_k_q8_k_1x4__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q6_k_q8_k_1x4(n, w, ws, a, as, o);
}
void qtile_q6_k_q8_k_4x1__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q6_k_q8_k_4x1(n, w, ws, a, as, o);
}

}  // namespace ple::kernels
