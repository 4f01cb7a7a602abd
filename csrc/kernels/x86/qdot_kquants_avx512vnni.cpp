// AVX-512 (F, BW, VL, VNNI) dots of the k-quants (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K) against Q8_K.
//
// A 512-bit vector holds 64 quants: two 32-element (Q4_K/Q5_K) or four 16-element sub-blocks,
// arranged to meet 64 contiguous activation bytes. vpmaddubsw forms exact int16 pair sums of the
// unsigned quants (0..63; offsets 4 / 32 taken off with a second vpmaddubsw, so -128 activations
// stay exact) and VNNI's vpdpwssd multiplies them by the int16 sub-block scales (spread with
// vpermw) and accumulates into int32 in one instruction. Lane bounds and the float part are as
// in qdot_kquants_avx2.cpp: exact int32 per super-block, one FMA per super-block and lane.
#include <cstdint>
#include <cstring>

#include "kernels/x86/x86_intrin.h"
#include "kernels/x86/x86_kernels.h"
#include "quant/blocks.h"

namespace ple::kernels {
namespace {

float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

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

int32_t hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

__m512i load512(const void* p) { return _mm512_loadu_si512(p); }
__m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
__m128i load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

// [lo | hi] as one 512-bit vector.
__m512i join(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// vpermw indices that spread int16 scales over the 32 int16 lanes of one vector, `per` lanes
// each: row k starts with scale step * k.
struct SpreadTable {
  alignas(64) int16_t idx[4][32];
};
constexpr SpreadTable make_spread(int per, int step) {
  SpreadTable t{};
  for (int k = 0; k < 4; ++k) {
    for (int i = 0; i < 32; ++i) t.idx[k][i] = static_cast<int16_t>(step * k + i / per);
  }
  return t;
}
constexpr SpreadTable kSpread8 = make_spread(8, 4);    // four 16-element sub-blocks: 4k .. 4k+3
constexpr SpreadTable kSpread16 = make_spread(16, 2);  // two 32-element sub-blocks: 2k, 2k+1

__m512i spread_scales(__m512i scales, const SpreadTable& table, int k) {
  return _mm512_permutexvar_epi16(_mm512_load_si512(table.idx[k]), scales);
}

// acc += (sum over pairs of (u - offset) * a) * scale, the pairs meeting their int16 scale lanes.
__m512i scaled_dot(__m512i acc, __m512i u, __m512i a, __m512i scales, uint8_t offset) {
  __m512i pairs = _mm512_maddubs_epi16(u, a);
  if (offset != 0) pairs = _mm512_sub_epi16(pairs, _mm512_maddubs_epi16(_mm512_set1_epi8(static_cast<char>(offset)), a));
  return _mm512_dpwssd_epi32(acc, pairs, scales);
}

// As in qdot_kquants_avx2.cpp.
__m128i unpack_scales_mins_k4(const uint8_t packed[kKScaleBytes]) {
  const uint32_t w0 = load_u32(packed), w1 = load_u32(packed + 4), w2 = load_u32(packed + 8);
  const uint32_t sc_lo = w0 & 0x3f3f3f3fu;
  const uint32_t m_lo = w1 & 0x3f3f3f3fu;
  const uint32_t sc_hi = (w2 & 0x0f0f0f0fu) | ((w0 >> 2) & 0x30303030u);
  const uint32_t m_hi = ((w2 >> 4) & 0x0f0f0f0fu) | ((w1 >> 2) & 0x30303030u);
  return _mm_setr_epi32(static_cast<int>(sc_lo), static_cast<int>(sc_hi), static_cast<int>(m_lo), static_cast<int>(m_hi));
}

__m128i unpack_scales_q3_k(const uint8_t packed[12]) {
  const uint32_t w0 = load_u32(packed), w1 = load_u32(packed + 4), w2 = load_u32(packed + 8);
  const auto group = [&](uint32_t low, int g) { return static_cast<int>(low | (((w2 >> (2 * g)) & 0x03030303u) << 4)); };
  const __m128i biased = _mm_setr_epi32(group(w0 & 0x0f0f0f0fu, 0), group(w1 & 0x0f0f0f0fu, 1),
                                        group((w0 >> 4) & 0x0f0f0f0fu, 2), group((w1 >> 4) & 0x0f0f0f0fu, 3));
  return _mm_sub_epi8(biased, _mm_set1_epi8(32));
}

int32_t min_sum_k4(__m128i scales_mins, const int16_t bsums[16]) {
  const __m128i m = _mm_cvtepu8_epi16(_mm_srli_si128(scales_mins, 8));
  const __m256i m_pairs = _mm256_set_m128i(_mm_unpackhi_epi16(m, m), _mm_unpacklo_epi16(m, m));
  return hsum_i32(_mm256_madd_epi16(load256(bsums), m_pairs));
}

// 16 int8 scales as the low 16 int16 words of a 512-bit vector.
__m512i widen_scales16(__m128i sc8) { return _mm512_castsi256_si512(_mm256_cvtepi8_epi16(sc8)); }

// Q4_K / Q5_K: chunk c (64 elements, sub-blocks 2c and 2c+1) is [low nibbles | high nibbles] of
// qs[32c .. 32c+31], against activations 64c .. 64c+63; the fifth bit of sub-block j is bit j of
// qh[l].
template <class WBlock, bool kFifth>
float dot_k4(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const WBlock*>(w);
  const auto* ab = static_cast<const BlockQ8_K*>(a);
  const __m512i nibble = _mm512_set1_epi8(0x0f), one = _mm512_set1_epi8(1);
  __m512 acc = _mm512_setzero_ps();
  float mins = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const WBlock& x = wb[b];
    const BlockQ8_K& y = ab[b];
    const __m128i scales_mins = unpack_scales_mins_k4(x.scales);
    const __m512i scales = _mm512_castsi128_si512(_mm_cvtepu8_epi16(scales_mins));
    __m512i hb = _mm512_setzero_si512();
    if constexpr (kFifth) {
      const __m256i qh = load256(x.qh);
      hb = join(qh, _mm256_srli_epi16(qh, 1));  // bits 2c | 2c+1 at bit 0 after 2c more shifts
    }
    __m512i isum = _mm512_setzero_si512();
    for (int c = 0; c < 4; ++c) {
      const __m256i q = load256(x.qs + 32 * c);
      __m512i u = _mm512_and_si512(join(q, _mm256_srli_epi16(q, 4)), nibble);
      if (kFifth) {
        u = _mm512_or_si512(u, _mm512_slli_epi16(_mm512_and_si512(hb, one), 4));
        hb = _mm512_srli_epi16(hb, 2);  // the next byte's bits enter at the top: bit 0 is clean for 7 shifts
      }
      isum = scaled_dot(isum, u, load512(y.qs + 64 * c), spread_scales(scales, kSpread16, c), 0);
    }
    acc = _mm512_fmadd_ps(_mm512_set1_ps(half_to_float(x.d) * y.d), _mm512_cvtepi32_ps(isum), acc);
    mins += half_to_float(x.dmin) * y.d * static_cast<float>(min_sum_k4(scales_mins, y.bsums));
  }
  return hsum(acc) - mins;
}

}  // namespace

// Q2_K: in half h, [bits 0..1 | bits 2..3] of qs[32h .. 32h+31] are elements 128h + 0..63 and
// [bits 4..5 | bits 6..7] the next 64.
float qdot_q2_k_q8_k__avx512vnni(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const BlockQ2_K*>(w);
  const auto* ab = static_cast<const BlockQ8_K*>(a);
  const __m512i two_bits = _mm512_set1_epi8(3);
  __m512 acc = _mm512_setzero_ps();
  float mins = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ2_K& x = wb[b];
    const BlockQ8_K& y = ab[b];
    const __m128i packed = load128(x.scales);  // low nibble: scale, high nibble: min
    const __m512i scales = widen_scales16(_mm_and_si128(packed, _mm_set1_epi8(0x0f)));
    const __m256i mins16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), _mm_set1_epi8(0x0f)));
    const int32_t msum = hsum_i32(_mm256_madd_epi16(load256(y.bsums), mins16));
    __m512i isum = _mm512_setzero_si512();
    for (int h = 0; h < 2; ++h) {
      const __m256i q = load256(x.qs + 32 * h);
      __m512i qq = join(q, _mm256_srli_epi16(q, 2));
      for (int t = 0; t < 2; ++t) {
        isum = scaled_dot(isum, _mm512_and_si512(qq, two_bits), load512(y.qs + 128 * h + 64 * t),
                          spread_scales(scales, kSpread8, 2 * h + t), 0);
        qq = _mm512_srli_epi16(qq, 4);
      }
    }
    acc = _mm512_fmadd_ps(_mm512_set1_ps(half_to_float(x.d) * y.d), _mm512_cvtepi32_ps(isum), acc);
    mins += half_to_float(x.dmin) * y.d * static_cast<float>(msum);
  }
  return hsum(acc) - mins;
}

// Q3_K: low bits as Q2_K; the high bit of element e is bit e/32 of hmask[e % 32]. u = low + 4 *
// high (0..7) and the quant is u - 4.
float qdot_q3_k_q8_k__avx512vnni(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const BlockQ3_K*>(w);
  const auto* ab = static_cast<const BlockQ8_K*>(a);
  const __m512i two_bits = _mm512_set1_epi8(3), one = _mm512_set1_epi8(1);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ3_K& x = wb[b];
    const BlockQ8_K& y = ab[b];
    const __m512i scales = widen_scales16(unpack_scales_q3_k(x.scales));
    const __m256i hm256 = load256(x.hmask);
    __m512i hm = join(hm256, _mm256_srli_epi16(hm256, 1));  // bit 4h+2t | 4h+2t+1 at bit 0 in step (h, t)
    __m512i isum = _mm512_setzero_si512();
    for (int h = 0; h < 2; ++h) {
      const __m256i q = load256(x.qs + 32 * h);
      __m512i qq = join(q, _mm256_srli_epi16(q, 2));
      for (int t = 0; t < 2; ++t) {
        const __m512i u = _mm512_or_si512(_mm512_and_si512(qq, two_bits), _mm512_slli_epi16(_mm512_and_si512(hm, one), 2));
        isum = scaled_dot(isum, u, load512(y.qs + 128 * h + 64 * t), spread_scales(scales, kSpread8, 2 * h + t), 4);
        qq = _mm512_srli_epi16(qq, 4);
        hm = _mm512_srli_epi16(hm, 2);  // at most 7 bits shifted before the last read: bit 0 stays clean
      }
    }
    acc = _mm512_fmadd_ps(_mm512_set1_ps(half_to_float(x.d) * y.d), _mm512_cvtepi32_ps(isum), acc);
  }
  return hsum(acc);
}

float qdot_q4_k_q8_k__avx512vnni(int64_t n, const void* w, const void* a) { return dot_k4<BlockQ4_K, false>(n, w, a); }

float qdot_q5_k_q8_k__avx512vnni(int64_t n, const void* w, const void* a) { return dot_k4<BlockQ5_K, true>(n, w, a); }

// Q6_K: in half h, ql[64h .. 64h+63] holds elements 128h + 0..63 in its low nibbles and the next
// 64 in its high nibbles; qh[32h + l] bits 2s..2s+1 are the high bits of element 128h + 32s + l.
float qdot_q6_k_q8_k__avx512vnni(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const BlockQ6_K*>(w);
  const auto* ab = static_cast<const BlockQ8_K*>(a);
  const __m512i nibble = _mm512_set1_epi8(0x0f), high = _mm512_set1_epi8(0x30);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ6_K& x = wb[b];
    const BlockQ8_K& y = ab[b];
    const __m512i scales = widen_scales16(load128(x.scales));
    __m512i isum = _mm512_setzero_si512();
    for (int h = 0; h < 2; ++h) {
      const __m512i ql = load512(x.ql + 64 * h);
      const __m256i qh256 = load256(x.qh + 32 * h);
      const __m512i qh = join(qh256, _mm256_srli_epi16(qh256, 2));  // [bits 0..1, 4..5 | bits 2..3, 6..7]
      const __m512i u01 = _mm512_or_si512(_mm512_and_si512(ql, nibble), _mm512_and_si512(_mm512_slli_epi16(qh, 4), high));
      const __m512i u23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), nibble), _mm512_and_si512(qh, high));
      isum = scaled_dot(isum, u01, load512(y.qs + 128 * h), spread_scales(scales, kSpread8, 2 * h), 32);
      isum = scaled_dot(isum, u23, load512(y.qs + 128 * h + 64), spread_scales(scales, kSpread8, 2 * h + 1), 32);
    }
    acc = _mm512_fmadd_ps(_mm512_set1_ps(half_to_float(x.d) * y.d), _mm512_cvtepi32_ps(isum), acc);
  }
  return hsum(acc);
}

}  // namespace ple::kernels
