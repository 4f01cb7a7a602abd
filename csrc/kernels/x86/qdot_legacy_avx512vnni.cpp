// AVX-512 (F, BW, VL, VNNI) dots of the 32-element block formats: Q4_0, Q5_0, Q8_0 x Q8_0 and
// Q4_1, Q5_1 x Q8_1. One block is one 256-bit vector: on Zen 4 and most Intel cores a 512-bit
// integer op costs two 256-bit ones, and these blocks are 32 quants, so the gain of AVX-512 here is
// VNNI's vpdpbusd (u8 x s8, four products summed into int32, never saturating), not width.
//
// Integer parts are exact for every byte pattern, activation quants of -128 included:
// - 4/5-bit weights are the unsigned operand (0..15 / 0..31); the offset (8 / 16) is taken off
//   as a second vpdpbusd of the constant offset against the activations.
// - Q8_0 weights are signed: w + 128 (w ^ 0x80) is the unsigned operand, and 128 * sum(a) is
//   taken off the same way.
// Float part: as qdot_legacy_avx2.cpp (d_w * d_a exact, FMA into 8-lane accumulators).
#include <cstdint>
#include <cstring>

#include "kernels/x86/x86_intrin.h"
#include "kernels/x86/x86_kernels.h"
#include "quant/blocks.h"

namespace ple::kernels {
namespace {

float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

__m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

__m256i unpack_nibbles(const uint8_t* qs) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), _mm256_set1_epi8(0x0f));
}

// Bit j of the 32-bit qh as 0x10 in byte j: a byte-granular mask straight from the bits.
__m256i fifth_bits(const uint8_t qh_bytes[4]) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, sizeof qh);
  return _mm256_maskz_mov_epi8(static_cast<__mmask32>(qh), _mm256_set1_epi8(0x10));
}

// sum over j of (u[j] - offset) * a[j], u and offset unsigned bytes: eight int32 partials.
__m256i dot_u8_i8(__m256i u, __m256i a, uint8_t offset) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i sum = _mm256_dpbusd_epi32(zero, u, a);
  if (offset == 0) return sum;
  return _mm256_sub_epi32(sum, _mm256_dpbusd_epi32(zero, _mm256_set1_epi8(static_cast<char>(offset)), a));
}

template <class WBlock, class ABlock, bool kMin, class Partial>
float dot_blocks(int64_t n, const void* w, const void* a, Partial partial) {
  const auto* wb = static_cast<const WBlock*>(w);
  const auto* ab = static_cast<const ABlock*>(a);
  const int64_t nb = n / kQK;
  __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
  float mins[2] = {0.0f, 0.0f};
  const auto step = [&](int64_t b, int k) {
    const __m256 d = _mm256_set1_ps(half_to_float(wb[b].d) * half_to_float(ab[b].d));
    acc[k] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(partial(wb[b], ab[b])), acc[k]);
    if constexpr (kMin) mins[k] += half_to_float(wb[b].m) * half_to_float(ab[b].s);
  };
  int64_t b = 0;
  for (; b + 1 < nb; b += 2) {
    step(b, 0);
    step(b + 1, 1);
  }
  if (b < nb) step(b, 0);
  const float sum = hsum(_mm256_add_ps(acc[0], acc[1]));
  return kMin ? sum + (mins[0] + mins[1]) : sum;
}

}  // namespace

float qdot_q4_0_q8_0__avx512vnni(int64_t n, const void* w, const void* a) {
  return dot_blocks<BlockQ4_0, BlockQ8_0, false>(n, w, a, [](const BlockQ4_0& x, const BlockQ8_0& y) {
    return dot_u8_i8(unpack_nibbles(x.qs), load256(y.qs), 8);
  });
}

float qdot_q5_0_q8_0__avx512vnni(int64_t n, const void* w, const void* a) {
  return dot_blocks<BlockQ5_0, BlockQ8_0, false>(n, w, a, [](const BlockQ5_0& x, const BlockQ8_0& y) {
    return dot_u8_i8(_mm256_or_si256(unpack_nibbles(x.qs), fifth_bits(x.qh)), load256(y.qs), 16);
  });
}

float qdot_q8_0_q8_0__avx512vnni(int64_t n, const void* w, const void* a) {
  return dot_blocks<BlockQ8_0, BlockQ8_0, false>(n, w, a, [](const BlockQ8_0& x, const BlockQ8_0& y) {
    const __m256i biased = _mm256_xor_si256(load256(x.qs), _mm256_set1_epi8(static_cast<char>(0x80)));
    return dot_u8_i8(biased, load256(y.qs), 128);
  });
}

float qdot_q4_1_q8_1__avx512vnni(int64_t n, const void* w, const void* a) {
  return dot_blocks<BlockQ4_1, BlockQ8_1, true>(n, w, a, [](const BlockQ4_1& x, const BlockQ8_1& y) {
    return dot_u8_i8(unpack_nibbles(x.qs), load256(y.qs), 0);
  });
}

float qdot_q5_1_q8_1__avx512vnni(int64_t n, const void* w, const void* a) {
  return dot_blocks<BlockQ5_1, BlockQ8_1, true>(n, w, a, [](const BlockQ5_1& x, const BlockQ8_1& y) {
    return dot_u8_i8(_mm256_or_si256(unpack_nibbles(x.qs), fifth_bits(x.qh)), load256(y.qs), 0);
  });
}

}  // namespace ple::kernels
