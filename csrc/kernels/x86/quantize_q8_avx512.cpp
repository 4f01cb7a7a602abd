// AVX-512 (F, BW) activation quantizers: Q8_0, Q8_1, Q8_K, byte-identical to the __ref twins for
// every input. The same steps as quantize_q8_avx2.cpp (see there why each matches the
// reference), 16 floats at a time: vmaxps(|x|, acc) ignores NaN, vmaxps(v, -127) maps NaN to
// -127, vrndscaleps truncates and +-1 is added where the dropped fraction is at least 1/2,
// vpmovsdb narrows to int8 (values are already within [-127, 127]).
#include <cstdint>
#include <cstring>

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
  __m512 m = _mm512_setzero_ps();
  for (int i = 0; i < len; i += 16) m = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i)), m);
  const __m512d d = _mm512_castps_pd(m);
  const __m256 m8 = _mm256_max_ps(_mm256_castpd_ps(_mm512_castpd512_pd256(d)), _mm256_castpd_ps(_mm512_extractf64x4_pd(d, 1)));
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(m8), _mm256_extractf128_ps(m8, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

int32_t hsum_i32(__m512i v) {
  const __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

// Sixteen quotients, clamped to [-127, 127] (NaN -> -127) and rounded half away from zero.
__m512i quantize16(const float* x, __m512 factor, bool divide) {
  const __m512 xv = _mm512_loadu_ps(x);
  __m512 v = divide ? _mm512_div_ps(xv, factor) : _mm512_mul_ps(xv, factor);
  v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-127.0f)), _mm512_set1_ps(127.0f));
  const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m512 frac = _mm512_abs_ps(_mm512_sub_ps(v, t));  // exact
  const __m512 away = _mm512_castsi512_ps(_mm512_or_si512(_mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(INT32_MIN)),
                                                          _mm512_castps_si512(_mm512_set1_ps(1.0f))));
  const __mmask16 round_up = _mm512_cmp_ps_mask(frac, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  return _mm512_cvttps_epi32(_mm512_mask_add_ps(t, round_up, t, away));  // integral: no rounding left
}

// Quantizes len (a multiple of 16) floats to q; returns d and writes the sum of each 16 quants.
float quantize_block(const float* x, int len, int8_t* q, int32_t* sums16) {
  const float d = max_abs(x, len) / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const bool divide = is_inf(id);
  const __m512 factor = _mm512_set1_ps(divide ? d : id);
  for (int i = 0; i < len; i += 16) {
    const __m512i qi = quantize16(x + i, factor, divide);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i), _mm512_cvtsepi32_epi8(qi));
    sums16[i / 16] = hsum_i32(qi);
  }
  return d;
}

}  // namespace

void quantize_row_q8_0__avx512(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ8_0*>(y);
  for (int64_t b = 0; b < n / kQK; ++b) {
    int32_t sums[2];
    blocks[b].d = float_to_half(quantize_block(x + b * kQK, kQK, blocks[b].qs, sums));
  }
}

void quantize_row_q8_1__avx512(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ8_1*>(y);
  for (int64_t b = 0; b < n / kQK; ++b) {
    int32_t sums[2];
    const float d = quantize_block(x + b * kQK, kQK, blocks[b].qs, sums);
    blocks[b].d = float_to_half(d);
    blocks[b].s = float_to_half(d * static_cast<float>(sums[0] + sums[1]));
  }
}

void quantize_row_q8_k__avx512(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ8_K*>(y);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int32_t sums[kQK_K / 16];
    blocks[b].d = quantize_block(x + b * kQK_K, kQK_K, blocks[b].qs, sums);
    for (int j = 0; j < kQK_K / 16; ++j) blocks[b].bsums[j] = static_cast<int16_t>(sums[j]);
  }
}

}  // namespace ple::kernels
