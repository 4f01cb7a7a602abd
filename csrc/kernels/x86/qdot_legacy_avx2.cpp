// AVX2 (+FMA, F16C) dots of the 32-element block formats: Q4_0, Q5_0, Q8_0 x Q8_0 and
// Q4_1, Q5_1 x Q8_1. One block is one 256-bit vector of 32 quants.
//
// Integer parts are exact for every byte pattern, activation quants of -128 included:
// - 4/5-bit weights enter vpmaddubsw as the unsigned operand (0..15 or 0..31), so a pair sum is
//   at most 2*31*128 = 7936 and never saturates; the format's offset (8 or 16) is taken off as a
//   second vpmaddubsw of the same activations against the constant offset.
// - Q8_0 weights are signed, so both operands are widened to int16 (vpmaddwd): the usual
//   abs/sign trick would turn -(-128) into -128.
// Float part: per block, d_w * d_a (exact: a product of two fp16 values fits a float32) times the
// eight int32 partial sums, fused into 8-lane accumulators. This differs from the __ref twin only
// in the order of the float additions (see tests/native/test_kernels_isa.cpp for the bound).
#include <cstdint>
#include <cstring>

#include "kernels/x86/avx2_helpers.h"
#include "kernels/x86/x86_intrin.h"
#include "kernels/x86/x86_kernels.h"
#include "quant/blocks.h"

namespace ple::kernels {
namespace {

// 16 bytes of packed nibbles -> 32 quants 0..15: low nibbles are elements 0..15, high 16..31.
__m256i unpack_nibbles(const uint8_t* qs) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), _mm256_set1_epi8(0x0f));
}

// Bit j of the 32-bit qh becomes 0x10 in byte j (the fifth bit of element j).
__m256i fifth_bits(const uint8_t qh_bytes[4]) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, sizeof qh);
  // Byte j picks byte j/8 of qh (each 128-bit lane holds all four), then tests bit j%8.
  const __m256i pick = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,  //
                                        2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
  const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
  const __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(qh)), pick);
  const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit);
  return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

// sum over j of (u[j] - offset) * a[j], u unsigned 0..31, a signed: eight exact int32 partials.
__m256i dot_u8_i8(__m256i u, __m256i a, int8_t offset) {
  __m256i pairs = _mm256_maddubs_epi16(u, a);  // |pair| <= 7936
  if (offset != 0) pairs = _mm256_sub_epi16(pairs, _mm256_maddubs_epi16(_mm256_set1_epi8(offset), a));
  return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

// Signed x signed: widened to int16, |pair| <= 2 * 128 * 128.
__m256i dot_i8_i8(const int8_t* x, const int8_t* y) {
  const auto lo = [](const int8_t* p) { return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); };
  return _mm256_add_epi32(_mm256_madd_epi16(lo(x), lo(y)), _mm256_madd_epi16(lo(x + 16), lo(y + 16)));
}

// The loop shared by every format: `partial(w, a)` gives the eight int32 partial sums of one
// block. Two accumulators hide the FMA latency. Q4_1 / Q5_1 (kMin) add m * s per block: the
// weight minimum meets the activation's s = d_a * sum(q_a).
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

float qdot_q4_0_q8_0__avx2(int64_t n, const void* w, const void* a) {
  return dot_blocks<BlockQ4_0, BlockQ8_0, false>(n, w, a, [](const BlockQ4_0& x, const BlockQ8_0& y) {
    return dot_u8_i8(unpack_nibbles(x.qs), load256(y.qs), 8);
  });
}

float qdot_q5_0_q8_0__avx2(int64_t n, const void* w, const void* a) {
  return dot_blocks<BlockQ5_0, BlockQ8_0, false>(n, w, a, [](const BlockQ5_0& x, const BlockQ8_0& y) {
    return dot_u8_i8(_mm256_or_si256(unpack_nibbles(x.qs), fifth_bits(x.qh)), load256(y.qs), 16);
  });
}

float qdot_q8_0_q8_0__avx2(int64_t n, const void* w, const void* a) {
  return dot_blocks<BlockQ8_0, BlockQ8_0, false>(n, w, a, [](const BlockQ8_0& x, const BlockQ8_0& y) {
    return dot_i8_i8(x.qs, y.qs);
  });
}

float qdot_q4_1_q8_1__avx2(int64_t n, const void* w, const void* a) {
  return dot_blocks<BlockQ4_1, BlockQ8_1, true>(n, w, a, [](const BlockQ4_1& x, const BlockQ8_1& y) {
    return dot_u8_i8(unpack_nibbles(x.qs), load256(y.qs), 0);
  });
}

float qdot_q5_1_q8_1__avx2(int64_t n, const void* w, const void* a) {
  return dot_blocks<BlockQ5_1, BlockQ8_1, true>(n, w, a, [](const BlockQ5_1& x, const BlockQ8_1& y) {
    return dot_u8_i8(_mm256_or_si256(unpack_nibbles(x.qs), fifth_bits(x.qh)), load256(y.qs), 0);
  });
}

}  // namespace ple::kernels
