// The activations (kernel_table.h, SoftmaxFn / SiluMulFn) eight floats at a time with a vector
// exp. Included only by activations_avx2.cpp and activations_avx512.cpp, which export them under
// their ISA's name; internal linkage, so each file's copy keeps its own flags. The AVX-512 build
// runs the same 256-bit code (512-bit vectors were not tried),
// so both give equal results bit for bit; they differ from the __ref twins by the exp's few ulps.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/exp_polynomial.h"
#include "kernels/x86/x86_intrin.h"

namespace ple::kernels {
namespace {

// e^x in each lane (exp_polynomial.h).
inline __m256 exp8(__m256 x) {
  using namespace exp_polynomial;
  const __m256 hi = _mm256_set1_ps(kMaxArg);
  const __m256 lo = _mm256_set1_ps(kMinArg);
  const __m256 xc = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), xc);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), r);
  __m256 p = _mm256_set1_ps(kTaylor[0]);
  for (int k = 1; k < kTerms; ++k) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kTaylor[k]));
  // 2^n as two powers of two.
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i half = _mm256_srai_epi32(ni, 1);
  const __m256i rest = _mm256_sub_epi32(ni, half);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 scale_half = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, bias), 23));
  const __m256 scale_rest = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(rest, bias), 23));
  __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, scale_half), scale_rest);
  y = _mm256_blendv_ps(y, _mm256_set1_ps(INFINITY), _mm256_cmp_ps(x, hi, _CMP_GT_OQ));
  y = _mm256_blendv_ps(y, _mm256_setzero_ps(), _mm256_cmp_ps(x, lo, _CMP_LT_OQ));
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

// The last n < 8 floats of a row as a vector (the rest of the lanes `fill`), and back.
inline __m256 load_partial(const float* x, int64_t n, float fill) {
  alignas(32) float buf[8];
  for (int64_t i = 0; i < 8; ++i) buf[i] = i < n ? x[i] : fill;
  return _mm256_load_ps(buf);
}
inline void store_partial(float* x, int64_t n, __m256 v) {
  alignas(32) float buf[8];
  _mm256_store_ps(buf, v);
  for (int64_t i = 0; i < n; ++i) x[i] = buf[i];
}

inline void softmax8(float* x, int64_t n) {
  const int64_t full = n / 8 * 8;
  const int64_t tail = n - full;
  __m256 vmax = _mm256_set1_ps(-INFINITY);
  for (int64_t i = 0; i < full; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
  if (tail) vmax = _mm256_max_ps(vmax, load_partial(x + full, tail, -INFINITY));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, vmax);
  float max_value = lanes[0];
  for (int i = 1; i < 8; ++i) max_value = std::max(max_value, lanes[i]);
  // The sum in double, lanes in a fixed order: the same for any alignment or thread split.
  const __m256 m = _mm256_set1_ps(max_value);
  __m256d sum_lo = _mm256_setzero_pd(), sum_hi = _mm256_setzero_pd();
  auto exp_and_sum = [&](__m256 v) {
    const __m256 e = exp8(_mm256_sub_ps(v, m));
    sum_lo = _mm256_add_pd(sum_lo, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
    sum_hi = _mm256_add_pd(sum_hi, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    return e;
  };
  for (int64_t i = 0; i < full; i += 8) _mm256_storeu_ps(x + i, exp_and_sum(_mm256_loadu_ps(x + i)));
  if (tail) store_partial(x + full, tail, exp_and_sum(load_partial(x + full, tail, -INFINITY)));
  alignas(32) double parts[8];
  _mm256_store_pd(parts, sum_lo);
  _mm256_store_pd(parts + 4, sum_hi);
  double sum = 0.0;
  for (double part : parts) sum += part;
  const __m256 inv = _mm256_set1_ps(static_cast<float>(1.0 / sum));
  for (int64_t i = 0; i < full; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
  if (tail) store_partial(x + full, tail, _mm256_mul_ps(load_partial(x + full, tail, 0.0f), inv));
}

inline void silu_mul8(float* gate, const float* up, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  auto silu_times = [&](__m256 g, __m256 u) {
    const __m256 e = exp8(_mm256_xor_ps(g, _mm256_set1_ps(-0.0f)));  // e^-g
    return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), u);
  };
  const int64_t full = n / 8 * 8;
  for (int64_t i = 0; i < full; i += 8) {
    _mm256_storeu_ps(gate + i, silu_times(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
  }
  if (n > full) {
    store_partial(gate + full, n - full,
                  silu_times(load_partial(gate + full, n - full, 0.0f), load_partial(up + full, n - full, 0.0f)));
  }
}

}  // namespace
}  // namespace ple::kernels
