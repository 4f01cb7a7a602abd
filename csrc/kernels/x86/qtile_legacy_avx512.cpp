// The tiles of qtile_legacy_x86.h built for AVX-512 F/BW/VL + VNNI
// (cmake/isa_sources.cmake: PLE_AVX512_FLAGS), instantiated with Avx512Vnni (policy_avx512.h).
#include "kernels/x86/x86_kernels.h"
#include "kernels/x86/qtile_legacy_x86.h"
#include "kernels/x86/policy_avx512.h"

namespace ple::kernels {

void qtile_q4_0_q8_0_8x1__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q4_0_q8_0_8x1<Avx512Vnni>(n, w, ws, a, as, o);
}
void qtile_q5_0_q8_0_8x1__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q5_0_q8_0_8x1<Avx512Vnni>(n, w, ws, a, as, o);
}
void qtile_q8_0_q8_0_8x1__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q8_0_q8_0_8x1<Avx512Vnni>(n, w, ws, a, as, o);
}
void qtile_q4_1_q8_1_8x1__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q4_1_q8_1_8x1<Avx512Vnni>(n, w, ws, a, as, o);
}
void qtile_q5_1_q8_1_8x1__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q5_1_q8_1_8x1<Avx512Vnni>(n, w, ws, a, as, o);
}
void qtile_q4_0_q8_0_4x4__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q4_0_q8_0_4x4<Avx512Vnni>(n, w, ws, a, as, o);
}
void qtile_q5_0_q8_0_4x4__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q5_0_q8_0_4x4<Avx512Vnni>(n, w, ws, a, as, o);
}
void qtile_q8_0_q8_0_4x3__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q8_0_q8_0_4x3<Avx512Vnni>(n, w, ws, a, as, o);
}
void qtile_q4_1_q8_1_4x4__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q4_1_q8_1_4x4<Avx512Vnni>(n, w, ws, a, as, o);
}
void qtile_q5_1_q8_1_4x4__avx512(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  qtile_q5_1_q8_1_4x4<Avx512Vnni>(n, w, ws, a, as, o);
}

}  // namespace ple::kernels
