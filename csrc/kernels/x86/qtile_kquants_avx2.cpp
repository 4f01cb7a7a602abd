// qtile_kquants_x86.inc built for AVX2 + FMA + F16C (cmake/isa_sources.cmake: PLE_AVX2_FLAGS).
#define PLE_X86_VNNI 0
#include "kernels/x86/qtile_kquants_x86.inc"

namespace ple::kernels {

void qtile_q4_k_q8_k_1x4__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q4_k_q8_k_1x4(n, w, ws, a, as, o);
}
void qtile_q4_k_q8_k_4x1__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q4_k_q8_k_4x1(n, w, ws, a, as, o);
}
void qtile_q5_k_q8_k_1x4__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q5_k_q8_k_1x4(n, w, ws, a, as, o);
}
void qtile_q5_k_q8_k_4x1__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q5_k_q8_k_4x1(n, w, ws, a, as, o);
}
void qtile_q6_k_q8_k_1x4__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q6_k_q8_k_1x4(n, w, ws, a, as, o);
}
void qtile_q6_k_q8_k_4x1__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q6_k_q8_k_4x1(n, w, ws, a, as, o);
}

}  // namespace ple::kernels
