// AVX2 (+F16C) activation quantizers: Q8_0, Q8_1, Q8_K. They produce blocks byte-identical to
// the __ref twins (quant/symmetric_i8.h) for every input, NaN and infinities included:
// - max|x| with vmaxps(|x|, acc), which returns acc when |x| is NaN, as std::fmax ignores NaN;
// - d = max / 127 and its reciprocal in scalar float32, the quotient x * (1/d) (or x / d when
//   1/d overflows) in float32, as the reference does;
// - the clamp vmaxps(v, -127) maps NaN to -127 like std::fmax(-127, v);
// - rounding half away from zero is built from truncation (vroundps toward zero, then +-1 where
//   the dropped fraction is at least 1/2), so it does not depend on the MXCSR rounding mode;
// - fp16 fields are converted with vcvtps2ph in round-to-nearest-even (immediate, not MXCSR),
//   which equals fp32_to_fp16 for every non-NaN value (d and s are never NaN).
#include <cstdint>
#include <cstring>

#include "kernels/x86/avx2_helpers.h"
#include "kernels/x86/x86_intrin.h"
#include "kernels/x86/x86_kernels.h"
#include "quant/blocks.h"

namespace ple::kernels {
namespace {

uint16_t float_to_half(float f) { return static_cast<uint16_t>(_cvtss_sh(f, 0)); }

bool is_inf(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return (bits & 0x7fffffffu) == 0x7f800000u;
}

float max_abs(const float* x, int len) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 m = _mm256_setzero_ps();
  for (int i = 0; i < len; i += 8) m = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)), m);
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Eight quotients, clamped to [-127, 127] (NaN -> -127) and rounded half away from zero.
__m256i quantize8(const float* x, __m256 factor, bool divide) {
  const __m256 xv = _mm256_loadu_ps(x);
  __m256 v = divide ? _mm256_div_ps(xv, factor) : _mm256_mul_ps(xv, factor);
  v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-127.0f)), _mm256_set1_ps(127.0f));
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 frac = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(v, t));  // exact
  const __m256 away = _mm256_or_ps(_mm256_and_ps(v, _mm256_set1_ps(-0.0f)), _mm256_set1_ps(1.0f));
  const __m256 r = _mm256_add_ps(t, _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ), away));
  return _mm256_cvttps_epi32(r);  // r is integral: no rounding left to do
}

// Quantizes len (a multiple of 32) floats to q; returns d and writes the sum of each 16 quants.
float quantize_block(const float* x, int len, int8_t* q, int32_t* sums16) {
  const float d = max_abs(x, len) / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const bool divide = is_inf(id);
  const __m256 factor = _mm256_set1_ps(divide ? d : id);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int i = 0; i < len; i += 32) {
    const __m256i i0 = quantize8(x + i, factor, divide), i1 = quantize8(x + i + 8, factor, divide);
    const __m256i i2 = quantize8(x + i + 16, factor, divide), i3 = quantize8(x + i + 24, factor, divide);
    // packs interleave 128-bit lanes; the permutation restores element order.
    const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + i), _mm256_permutevar8x32_epi32(bytes, order));
    sums16[i / 16] = hsum_i32(_mm256_add_epi32(i0, i1));
    sums16[i / 16 + 1] = hsum_i32(_mm256_add_epi32(i2, i3));
  }
  return d;
}

}  // namespace

void quantize_row_q8_0__avx2(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ8_0*>(y);
  for (int64_t b = 0; b < n / kQK; ++b) {
    int32_t sums[2];
    blocks[b].d = float_to_half(quantize_block(x + b * kQK, kQK, blocks[b].qs, sums));
  }
}

void quantize_row_q8_1__avx2(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ8_1*>(y);
  for (int64_t b = 0; b < n / kQK; ++b) {
    int32_t sums[2];
    const float d = quantize_block(x + b * kQK, kQK, blocks[b].qs, sums);
    blocks[b].d = float_to_half(d);
    blocks[b].s = float_to_half(d * static_cast<float>(sums[0] + sums[1]));
  }
}

void quantize_row_q8_k__avx2(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ8_K*>(y);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int32_t sums[kQK_K / 16];
    blocks[b].d = quantize_block(x + b * kQK_K, kQK_K, blocks[b].qs, sums);
    for (int j = 0; j < kQK_K / 16; ++j) blocks[b].bsums[j] = static_cast<int16_t>(sums[j]);
  }
}

}  // namespace ple::kernels
