// AVX-512 (F, BW, VL) float dots: F32, F16 and BF16 weights against F32 activations, and the F16
// KV-cache dot and axpy of attention. Same contracts as fdot_avx2.cpp: the dots accumulate in
// float32 with FMA in 4 x 16 lanes (bound |dot - ref| <= (n / 16 + 24) * 2^-24 * sum |x_i y_i|
// in the tests), tails use masked loads; the axpy multiplies and adds separately
// (-ffp-contract=off) and equals its __ref twin bit for bit.
#include <cstdint>

#include "kernels/x86/x86_intrin.h"
#include "kernels/x86/x86_kernels.h"
#include "quant/blocks.h"

namespace ple::kernels {
namespace {

float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
float hsum(__m512 v) {
  const __m512d d = _mm512_castps_pd(v);
  return hsum256(_mm256_add_ps(_mm256_castpd_ps(_mm512_castpd512_pd256(d)), _mm256_castpd_ps(_mm512_extractf64x4_pd(d, 1))));
}

// Sixteen weights at element i as floats; `mask` selects the ones that exist (zeros elsewhere).
struct F32Weights {
  const float* p;
  __m512 load(int64_t i, __mmask16 mask) const { return _mm512_maskz_loadu_ps(mask, p + i); }
};
struct F16Weights {
  const uint16_t* p;
  __m512 load(int64_t i, __mmask16 mask) const { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, p + i)); }
};
struct BF16Weights {
  const uint16_t* p;
  __m512 load(int64_t i, __mmask16 mask) const {
    const __m512i wide = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, p + i));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
  }
};

constexpr __mmask16 kAll = 0xffff;
__mmask16 first_lanes(int64_t count) { return static_cast<__mmask16>((1u << count) - 1u); }

template <class Weights>
float dot(int64_t n, Weights w, const float* y) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    for (int k = 0; k < 4; ++k) acc[k] = _mm512_fmadd_ps(w.load(i + 16 * k, kAll), _mm512_loadu_ps(y + i + 16 * k), acc[k]);
  }
  for (; i + 16 <= n; i += 16) acc[0] = _mm512_fmadd_ps(w.load(i, kAll), _mm512_loadu_ps(y + i), acc[0]);
  if (i < n) {
    const __mmask16 m = first_lanes(n - i);
    acc[1] = _mm512_fmadd_ps(w.load(i, m), _mm512_maskz_loadu_ps(m, y + i), acc[1]);
  }
  return hsum(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

}  // namespace

float qdot_f32_f32__avx512vnni(int64_t n, const void* w, const void* a) {
  return dot(n, F32Weights{static_cast<const float*>(w)}, static_cast<const float*>(a));
}

float qdot_f16_f32__avx512vnni(int64_t n, const void* w, const void* a) {
  return dot(n, F16Weights{static_cast<const uint16_t*>(w)}, static_cast<const float*>(a));
}

float qdot_bf16_f32__avx512vnni(int64_t n, const void* w, const void* a) {
  return dot(n, BF16Weights{static_cast<const uint16_t*>(w)}, static_cast<const float*>(a));
}

float dot_f16_f32__avx512vnni(int64_t n, const uint16_t* x, const float* y) { return dot(n, F16Weights{x}, y); }

void axpy_f16__avx512vnni(int64_t n, float a, const uint16_t* x, float* y) {
  const F16Weights w{x};
  const __m512 va = _mm512_set1_ps(a);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_add_ps(_mm512_loadu_ps(y + i), _mm512_mul_ps(va, w.load(i, kAll))));
  if (i < n) {
    const __mmask16 m = first_lanes(n - i);
    _mm512_mask_storeu_ps(y + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, y + i), _mm512_mul_ps(va, w.load(i, m))));
  }
}

void axpy_q8_0__avx512vnni(int64_t n, float a, const void* x, float* y) {
  const auto* blocks = static_cast<const BlockQ8_0*>(x);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const __m512 scale = _mm512_set1_ps(a * _cvtsh_ss(blocks[b].d));
    float* yb = y + b * kQK;
    for (int j = 0; j < kQK; j += 16) {
      const __m128i q8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks[b].qs + j));
      const __m512 q = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q8));
      _mm512_storeu_ps(yb + j, _mm512_add_ps(_mm512_loadu_ps(yb + j), _mm512_mul_ps(scale, q)));
    }
  }
}

}  // namespace ple::kernels
