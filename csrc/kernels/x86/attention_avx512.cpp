// The attention kernels of attention_x86.h built for AVX-512 F/BW/VL + VNNI
// (cmake/isa_sources.cmake: PLE_AVX512_FLAGS), instantiated with Avx512Vnni (policy_avx512.h).
#include "kernels/x86/x86_kernels.h"
#include "kernels/x86/attention_x86.h"
#include "kernels/x86/policy_avx512.h"

namespace ple::kernels {

float dot_f16_f32__avx512(int64_t n, const uint16_t* x, const float* y) { return dot_f16_f32<Avx512Vnni>(n, x, y); }
void axpy_f16__avx512(int64_t n, float a, const uint16_t* x, float* y) { axpy_f16<Avx512Vnni>(n, a, x, y); }
void attend_scores_f16__avx512(int64_t n_rows, int64_t hd, const uint16_t* k, size_t row_stride, const float* q, size_t q_stride, int64_t n_q, float scale, float* scores, size_t scores_stride) {
  attend_scores_f16<Avx512Vnni>(n_rows, hd, k, row_stride, q, q_stride, n_q, scale, scores, scores_stride);
}
void attend_values_f16__avx512(int64_t n_rows, int64_t hd, const uint16_t* v, size_t row_stride, const float* s, size_t s_stride, int64_t n_q, float* out, size_t out_stride) {
  attend_values_f16<Avx512Vnni>(n_rows, hd, v, row_stride, s, s_stride, n_q, out, out_stride);
}
void axpy_q8_0__avx512(int64_t n, float a, const void* x, float* y) { axpy_q8_0<Avx512Vnni>(n, a, x, y); }

}  // namespace ple::kernels
