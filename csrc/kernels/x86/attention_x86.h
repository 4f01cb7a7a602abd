// Attention kernels over the KV cache, as templates over the x86 ISA policy (policy_avx2.h): the
// F16 dot and axpy, grouped-query scores and values over F16 rows (kernel_table.h,
// AttendScoresF16Fn / AttendValuesF16Fn, each equal bit for bit to the per-position dot and axpy),
// and the Q8_0 axpy. Included only by attention_avx2.cpp and attention_avx512.cpp, which
// instantiate them with their policy and export them by name; internal linkage.
// Kernels that need none of the policy's operations still take it, so that every x86 family is
// instantiated the same way.
#pragma once
#include "kernels/x86/qdot_float_x86.h"

namespace ple::kernels {
namespace {

template <class Isa>
float dot_f16_f32(int64_t n, const uint16_t* x, const float* y) { return dot(n, F16Weights{x}, y); }

template <class Isa>
void axpy_f16(int64_t n, float a, const uint16_t* x, float* y) {
  const F16Weights w{x};
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_mul_ps(va, w.load8(i))));
  for (; i < n; ++i) y[i] = y[i] + a * w.load1(i);
}

template <class Isa>
void attend_scores_f16(int64_t n_rows, int64_t hd, const uint16_t* k, size_t row_stride, const float* q,
                             size_t q_stride, int64_t n_q, float scale, float* scores, size_t scores_stride) {
  // The row as floats once; the F32 dot over them runs the F16 dot's operations on the same values.
  alignas(32) float row[kMaxAttendHeadDim];
  for (int64_t p = 0; p < n_rows; ++p) {
    const uint16_t* kp = k + static_cast<size_t>(p) * row_stride;
    int64_t i = 0;
    for (; i + 8 <= hd; i += 8) _mm256_store_ps(row + i, F16Weights{kp}.load8(i));
    for (; i < hd; ++i) row[i] = _cvtsh_ss(kp[i]);
    for (int64_t j = 0; j < n_q; ++j) {
      scores[static_cast<size_t>(j) * scores_stride + static_cast<size_t>(p)] =
          dot(hd, F32Weights{row}, q + static_cast<size_t>(j) * q_stride) * scale;
    }
  }
}

template <class Isa>
void attend_values_f16(int64_t n_rows, int64_t hd, const uint16_t* v, size_t row_stride, const float* s,
                             size_t s_stride, int64_t n_q, float* out, size_t out_stride) {
  // Up to eight heads' outputs stay in registers while every position passes; y + a * x per
  // position in order, multiply and add separate, as axpy_f16.
  constexpr int64_t kHeads = 8;
  for (int64_t j0 = 0; j0 < n_q; j0 += kHeads) {
    const int64_t nj = std::min(kHeads, n_q - j0);
    int64_t i = 0;
    for (; i + 8 <= hd; i += 8) {
      __m256 acc[kHeads];
      for (int64_t j = 0; j < nj; ++j) acc[j] = _mm256_loadu_ps(out + static_cast<size_t>(j0 + j) * out_stride + i);
      for (int64_t p = 0; p < n_rows; ++p) {
        const __m256 x = F16Weights{v + static_cast<size_t>(p) * row_stride}.load8(i);
        for (int64_t j = 0; j < nj; ++j) {
          const __m256 a = _mm256_set1_ps(s[static_cast<size_t>(j0 + j) * s_stride + static_cast<size_t>(p)]);
          acc[j] = _mm256_add_ps(acc[j], _mm256_mul_ps(a, x));
        }
      }
      for (int64_t j = 0; j < nj; ++j) _mm256_storeu_ps(out + static_cast<size_t>(j0 + j) * out_stride + i, acc[j]);
    }
    for (; i < hd; ++i) {
      for (int64_t j = j0; j < j0 + nj; ++j) {
        float y = out[static_cast<size_t>(j) * out_stride + i];
        for (int64_t p = 0; p < n_rows; ++p) {
          y = y + s[static_cast<size_t>(j) * s_stride + static_cast<size_t>(p)] * _cvtsh_ss(v[static_cast<size_t>(p) * row_stride + i]);
        }
        out[static_cast<size_t>(j) * out_stride + i] = y;
      }
    }
  }
}

template <class Isa>
void axpy_q8_0(int64_t n, float a, const void* x, float* y) {
  const auto* blocks = static_cast<const BlockQ8_0*>(x);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const __m256 scale = _mm256_set1_ps(a * _cvtsh_ss(blocks[b].d));
    float* yb = y + b * kQK;
    for (int j = 0; j < kQK; j += 8) {
      const __m128i q8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blocks[b].qs + j));
      const __m256 q = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q8));
      _mm256_storeu_ps(yb + j, _mm256_add_ps(_mm256_loadu_ps(yb + j), _mm256_mul_ps(scale, q)));
    }
  }
}

}  // namespace
}  // namespace ple::kernels
