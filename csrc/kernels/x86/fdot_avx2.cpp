// AVX2 (+FMA, F16C) float dots: F32, F16 and BF16 weights against F32 activations, and the F16
// KV-cache dot and axpy of attention.
//
// Dots accumulate in float32 with FMA in 4 x 8 lanes (the __ref twins accumulate in double):
// each lane rounds once per element it sums, and the lanes meet in a short tree, hence the
// bound |dot - ref| <= (n / 32 + 16) * 2^-24 * sum |x_i y_i| checked by the tests. The axpy
// multiplies and adds separately (this file is built with -ffp-contract=off) and so equals its
// __ref twin bit for bit.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/x86/avx2_helpers.h"
#include "kernels/x86/x86_intrin.h"
#include "kernels/kernel_table.h"
#include "kernels/x86/x86_kernels.h"
#include "quant/blocks.h"

namespace ple::kernels {
namespace {

// Eight weights at element i as floats, and element i alone for the tail.
struct F32Weights {
  const float* p;
  __m256 load8(int64_t i) const { return _mm256_loadu_ps(p + i); }
  float load1(int64_t i) const { return p[i]; }
};
struct F16Weights {
  const uint16_t* p;
  __m256 load8(int64_t i) const { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i))); }
  float load1(int64_t i) const { return _cvtsh_ss(p[i]); }
};
struct BF16Weights {
  const uint16_t* p;
  __m256 load8(int64_t i) const {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
  float load1(int64_t i) const {
    const uint32_t bits = static_cast<uint32_t>(p[i]) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }
};

template <class Weights>
float dot(int64_t n, Weights w, const float* y) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int k = 0; k < 4; ++k) acc[k] = _mm256_fmadd_ps(w.load8(i + 8 * k), _mm256_loadu_ps(y + i + 8 * k), acc[k]);
  }
  for (; i + 8 <= n; i += 8) acc[0] = _mm256_fmadd_ps(w.load8(i), _mm256_loadu_ps(y + i), acc[0]);
  float tail = 0.0f;
  for (; i < n; ++i) tail += w.load1(i) * y[i];
  return hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]))) + tail;
}

}  // namespace

float qdot_f32_f32__avx2(int64_t n, const void* w, const void* a) {
  return dot(n, F32Weights{static_cast<const float*>(w)}, static_cast<const float*>(a));
}

float qdot_f16_f32__avx2(int64_t n, const void* w, const void* a) {
  return dot(n, F16Weights{static_cast<const uint16_t*>(w)}, static_cast<const float*>(a));
}

float qdot_bf16_f32__avx2(int64_t n, const void* w, const void* a) {
  return dot(n, BF16Weights{static_cast<const uint16_t*>(w)}, static_cast<const float*>(a));
}

float dot_f16_f32__avx2(int64_t n, const uint16_t* x, const float* y) { return dot(n, F16Weights{x}, y); }

void axpy_f16__avx2(int64_t n, float a, const uint16_t* x, float* y) {
  const F16Weights w{x};
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_mul_ps(va, w.load8(i))));
  for (; i < n; ++i) y[i] = y[i] + a * w.load1(i);
}

void attend_scores_f16__avx2(int64_t n_rows, int64_t hd, const uint16_t* k, size_t row_stride, const float* q,
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

void attend_values_f16__avx2(int64_t n_rows, int64_t hd, const uint16_t* v, size_t row_stride, const float* s,
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

void axpy_q8_0__avx2(int64_t n, float a, const void* x, float* y) {
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

}  // namespace ple::kernels
