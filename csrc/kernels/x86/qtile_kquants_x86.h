// The x86 dot and tile core of the k-quants (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K) against Q8_K in 256-bit AVX2 + FMA +
// F16C intrinsics, built for avx2 and for avx512 (see avx2_helpers.h).
//
// Per super-block of 256 the integer sum is exact, as in the __ref twin: every quant is brought
// to an unsigned 0..63 (the format's offset, 4 for Q3_K and 32 for Q6_K, is taken off with a
// second vpmaddubsw against the activations, so -128 activations stay exact), vpmaddubsw forms
// int16 pair sums, vpmaddwd multiplies them by the int16 sub-block scales into int32 lanes. Each
// lane sums at most 16 elements of |q * scale * a| <= 2^19, so it stays below 2^24 and converts
// to float exactly (Q4_K / Q5_K instead convert each super-block's whole integer sum, see tile_k4).
// The minimum terms use the activation's bsums, as the __ref twin does (Q2_K, Q4_K, Q5_K); Q3_K
// and Q6_K read the quants themselves. Float part: one FMA of d_w * d_a per super-block (and lane);
// only the order of float additions differs from the __ref twin.
//
// The decode and prefill tiles of Q4_K, Q5_K and Q6_K are at the end (qdot_kquants_x86.h has the
// dots), templates over the ISA policy (policy_avx2.h) that qtile_kquants_<isa>.cpp instantiate
// and export by name. They need none of the policy's operations but take it all the same, so that
// every x86 family is instantiated the same way.
#pragma once
#include <cstdint>
#include <cstring>

#include "kernels/x86/avx2_helpers.h"
#include "kernels/x86/x86_intrin.h"
#include "kernels/x86/x86_kernels.h"
#include "quant/blocks.h"

namespace ple::kernels {
namespace {

// vpshufb controls that turn 8 int16 scales (both 128-bit lanes) into [scale 2k x8 | scale 2k+1 x8]:
// the two 16-element sub-blocks of one 32-element vector.
alignas(32) const uint8_t kScalePair[4][32] = {
    {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3},
    {4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7},
    {8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11},
    {12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15},
};
inline __m256i scale_pair(__m256i scales8, int k) { return _mm256_shuffle_epi8(scales8, load256(kScalePair[k])); }

// One 32-element vector of a 16-scale format: sum of (u - offset) * a per pair, times the pair's
// sub-block scales (int16), as eight int32 lanes.
inline __m256i scaled_dot(__m256i u, __m256i a, __m256i scales, int8_t offset) {
  __m256i pairs = _mm256_maddubs_epi16(u, a);
  if (offset != 0) pairs = _mm256_sub_epi16(pairs, _mm256_maddubs_epi16(_mm256_set1_epi8(offset), a));
  return _mm256_madd_epi16(pairs, scales);
}

// Q3_K: 16 signed six-bit scales (stored +32) from 12 bytes, as int8.
inline __m128i unpack_scales_q3_k(const uint8_t packed[12]) {
  const uint32_t w0 = load_u32(packed), w1 = load_u32(packed + 4), w2 = load_u32(packed + 8);
  const auto group = [&](uint32_t low, int g) { return static_cast<int>(low | (((w2 >> (2 * g)) & 0x03030303u) << 4)); };
  const __m128i biased = _mm_setr_epi32(group(w0 & 0x0f0f0f0fu, 0), group(w1 & 0x0f0f0f0fu, 1),
                                        group((w0 >> 4) & 0x0f0f0f0fu, 2), group((w1 >> 4) & 0x0f0f0f0fu, 3));
  return _mm_sub_epi8(biased, _mm_set1_epi8(32));
}

// Q4_K / Q5_K: the terms of sum over sub-blocks j of m[j] * (bsums[2j] + bsums[2j+1]) in eight
// int32 lanes (their sum is exact in int32).
inline __m256i min_terms_k4(__m128i scales_mins, const int16_t bsums[16]) {
  const __m128i m = _mm_cvtepu8_epi16(_mm_srli_si128(scales_mins, 8));
  const __m256i m_pairs = _mm256_set_m128i(_mm_unpackhi_epi16(m, m), _mm_unpacklo_epi16(m, m));
  return _mm256_madd_epi16(load256(bsums), m_pairs);
}

// Lane i: the sum of the eight int32 lanes of v[i] (exact).
inline __m128i lane_sums4(const __m256i* v) {
  const __m256i q = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
  return _mm_add_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
}

// Q4_K / Q5_K super-block: chunk c (64 elements) pairs the low nibbles of qs[32c..] with
// elements 64c..64c+31 (sub-block 2c) and the high nibbles with the next 32 (sub-block 2c+1).
// With kFifth the fifth bit of sub-block j is bit j of qh[l]. T activation rows share each
// unpacked chunk: isum[t] gets the exact integer sums of token t.
template <bool kFifth, int T>
void int_sums_k4(const uint8_t* qs, const uint8_t* qh, __m128i scales_mins, const int8_t* const* a, __m256i* isum) {
  const __m256i nibble = _mm256_set1_epi8(0x0f);
  uint16_t sc[8];
  _mm_storeu_si128(reinterpret_cast<__m128i*>(sc), _mm_cvtepu8_epi16(scales_mins));
  __m256i hb = kFifth ? load256(qh) : _mm256_setzero_si256();
  for (int t = 0; t < T; ++t) isum[t] = _mm256_setzero_si256();
  for (int c = 0; c < 4; ++c) {
    const __m256i q = load256(qs + 32 * c);
    __m256i lo = _mm256_and_si256(q, nibble);
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), nibble);
    if (kFifth) {
      const __m256i one = _mm256_set1_epi8(1);
      lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(hb, one), 4));
      hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 1), one), 4));
      hb = _mm256_srli_epi16(hb, 2);  // bits from the next byte land in bits 6..7: never read
    }
    const __m256i s_lo = _mm256_set1_epi16(static_cast<int16_t>(sc[2 * c]));
    const __m256i s_hi = _mm256_set1_epi16(static_cast<int16_t>(sc[2 * c + 1]));
    for (int t = 0; t < T; ++t) {
      const __m256i p_lo = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, load256(a[t] + 64 * c)), s_lo);
      const __m256i p_hi = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, load256(a[t] + 64 * c + 32)), s_hi);
      isum[t] = _mm256_add_epi32(isum[t], _mm256_add_epi32(p_lo, p_hi));
    }
  }
}

// Rows in lockstep defeat the hardware stream prefetcher (see qtile_legacy_x86.h): decode tiles
// prefetch the same super-block of the row R below, i.e. the next tile's rows.
template <int R, class WBlock>
void prefetch_next_tile(const WBlock& x, size_t w_stride) {
  if constexpr (R > 1) {
    const char* next = reinterpret_cast<const char*>(&x) + R * w_stride;
    for (size_t line = 0; line < sizeof(WBlock); line += 64) _mm_prefetch(next + line, _MM_HINT_T0);
  }
}

// out[r * T + t] = dot(n, row r, a + t * a_stride) for R weight rows (w_stride bytes apart) and T
// tokens; R = T = 1 is the dot. Every output runs the dot's float operations in the dot's order:
// per super-block, acc = fma(d * d_a, float(isum), acc) with isum the exact integer sum of the
// super-block (|isum| <= 256 * 31 * 63 * 128 < 2^31), and mins += (dmin * d_a) * float(msum);
// the result is acc - mins. The Q4_K prefill panel (qpanel_x86.h) runs the same sequence
// with eight rows in the lanes of a vector, so it equals the dot bit for bit.
template <class WBlock, bool kFifth, int R, int T>
void tile_k4(int64_t n, const void* w, size_t w_stride, const void* a, size_t a_stride, float* out) {
  constexpr int kOut = R * T;  // output i = r * T + t
  const auto* a_bytes = static_cast<const uint8_t*>(a);
  alignas(16) float acc[kOut] = {}, mins[kOut] = {};
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ8_K* y[T];
    const int8_t* qs[T];
    for (int t = 0; t < T; ++t) {
      y[t] = reinterpret_cast<const BlockQ8_K*>(a_bytes + static_cast<size_t>(t) * a_stride) + b;
      qs[t] = y[t]->qs;
    }
    __m256i isum[kOut], msum[kOut];
    alignas(16) float d_prod[kOut], dmin_prod[kOut];
    for (int r = 0; r < R; ++r) {
      const WBlock& x = reinterpret_cast<const WBlock*>(static_cast<const uint8_t*>(w) + static_cast<size_t>(r) * w_stride)[b];
      if constexpr (T == 1) prefetch_next_tile<R>(x, w_stride);
      const __m128i scales_mins = unpack_scales_mins_k4(x.scales);
      const uint8_t* qh = nullptr;
      if constexpr (kFifth) qh = x.qh;
      int_sums_k4<kFifth, T>(x.qs, qh, scales_mins, qs, isum + r * T);
      const float d = half_to_float(x.d), dmin = half_to_float(x.dmin);
      for (int t = 0; t < T; ++t) {
        msum[r * T + t] = min_terms_k4(scales_mins, y[t]->bsums);
        d_prod[r * T + t] = d * y[t]->d;
        dmin_prod[r * T + t] = dmin * y[t]->d;
      }
    }
    // Four outputs reduce their integer sums together and share vector float operations; the
    // per-output operations are the same as the scalar ones below.
    if constexpr (kOut == 4) {
      const __m128 total = _mm_cvtepi32_ps(lane_sums4(isum)), min_total = _mm_cvtepi32_ps(lane_sums4(msum));
      _mm_store_ps(acc, _mm_fmadd_ps(_mm_load_ps(d_prod), total, _mm_load_ps(acc)));
      _mm_store_ps(mins, _mm_add_ps(_mm_load_ps(mins), _mm_mul_ps(_mm_load_ps(dmin_prod), min_total)));
    } else {
      for (int i = 0; i < kOut; ++i) {
        const float total = static_cast<float>(hsum_i32(isum[i]));
        acc[i] = _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(d_prod[i]), _mm_set_ss(total), _mm_set_ss(acc[i])));
        mins[i] += dmin_prod[i] * static_cast<float>(hsum_i32(msum[i]));
      }
    }
  }
  for (int i = 0; i < kOut; ++i) out[i] = acc[i] - mins[i];
}

template <class WBlock, bool kFifth>
float dot_k4(int64_t n, const void* w, const void* a) {
  float out;
  tile_k4<WBlock, kFifth, 1, 1>(n, w, 0, a, 0, &out);
  return out;
}

// Q6_K: out[r * T + t] = dot(n, row r, a + t * a_stride), as tile_k4 (R = T = 1: the dot): per
// super-block acc = fma(d * d_a, float(isum), acc), isum the exact integer sum (|isum| <= 256 *
// 32 * 128 * 128 < 2^31), shared bit for bit with the Q6_K prefill panel.
template <int R, int T>
void tile_q6_k(int64_t n, const void* w, size_t w_stride, const void* a, size_t a_stride, float* out) {
  constexpr int kOut = R * T;  // output i = r * T + t
  const auto* a_bytes = static_cast<const uint8_t*>(a);
  const __m256i nibble = _mm256_set1_epi8(0x0f), high = _mm256_set1_epi8(0x30);
  alignas(16) float acc[kOut] = {};
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ8_K* y[T];
    for (int t = 0; t < T; ++t) y[t] = reinterpret_cast<const BlockQ8_K*>(a_bytes + static_cast<size_t>(t) * a_stride) + b;
    __m256i isum[kOut];
    alignas(16) float d_prod[kOut];
    for (int r = 0; r < R; ++r) {
      const BlockQ6_K& x = reinterpret_cast<const BlockQ6_K*>(static_cast<const uint8_t*>(w) + static_cast<size_t>(r) * w_stride)[b];
      if constexpr (T == 1) prefetch_next_tile<R>(x, w_stride);
      for (int t = 0; t < T; ++t) isum[r * T + t] = _mm256_setzero_si256();
      const __m128i sc8 = load128(x.scales);
      for (int h = 0; h < 2; ++h) {
        const __m256i scales = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(h ? _mm_srli_si128(sc8, 8) : sc8));
        const __m256i ql0 = load256(x.ql + 64 * h), ql1 = load256(x.ql + 64 * h + 32);
        const __m256i qh = load256(x.qh + 32 * h);
        // Element 128h + 32s + l: nibble of ql (low for s < 2, from ql0 for even s) and bits
        // 2s..2s+1 of qh[l] as bits 4..5; u = 0..63 and the quant is u - 32.
        const __m256i u[4] = {
            _mm256_or_si256(_mm256_and_si256(ql0, nibble), _mm256_and_si256(_mm256_slli_epi16(qh, 4), high)),
            _mm256_or_si256(_mm256_and_si256(ql1, nibble), _mm256_and_si256(_mm256_slli_epi16(qh, 2), high)),
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), nibble), _mm256_and_si256(qh, high)),
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), nibble), _mm256_and_si256(_mm256_srli_epi16(qh, 2), high)),
        };
        for (int s = 0; s < 4; ++s) {
          const __m256i pair_scales = scale_pair(scales, s);
          for (int t = 0; t < T; ++t) {
            isum[r * T + t] = _mm256_add_epi32(isum[r * T + t],
                                               scaled_dot(u[s], load256(y[t]->qs + 128 * h + 32 * s), pair_scales, 32));
          }
        }
      }
      const float d = half_to_float(x.d);
      for (int t = 0; t < T; ++t) d_prod[r * T + t] = d * y[t]->d;
    }
    if constexpr (kOut == 4) {
      _mm_store_ps(acc, _mm_fmadd_ps(_mm_load_ps(d_prod), _mm_cvtepi32_ps(lane_sums4(isum)), _mm_load_ps(acc)));
    } else {
      for (int i = 0; i < kOut; ++i) {
        const float total = static_cast<float>(hsum_i32(isum[i]));
        acc[i] = _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(d_prod[i]), _mm_set_ss(total), _mm_set_ss(acc[i])));
      }
    }
  }
  for (int i = 0; i < kOut; ++i) out[i] = acc[i];
}

}  // namespace

namespace {
template <int R, int T>
void tile_q4_k(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  tile_k4<BlockQ4_K, false, R, T>(n, w, ws, a, as, o);
}
template <int R, int T>
void tile_q5_k(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  tile_k4<BlockQ5_K, true, R, T>(n, w, ws, a, as, o);
}

// Prefill tiles, 1 row x 4 tokens: each super-block is unpacked once for four tokens. Decode
// tiles, 4 rows x 1 token: four independent rows in flight, and the next tile's rows prefetched.
template <class Isa>
void qtile_q4_k_q8_k_1x4(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  tile_q4_k<1, 4>(n, w, ws, a, as, o);
}
template <class Isa>
void qtile_q4_k_q8_k_4x1(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  tile_q4_k<4, 1>(n, w, ws, a, as, o);
}
template <class Isa>
void qtile_q5_k_q8_k_1x4(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  tile_q5_k<1, 4>(n, w, ws, a, as, o);
}
template <class Isa>
void qtile_q5_k_q8_k_4x1(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  tile_q5_k<4, 1>(n, w, ws, a, as, o);
}
template <class Isa>
void qtile_q6_k_q8_k_1x4(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  tile_q6_k<1, 4>(n, w, ws, a, as, o);
}
template <class Isa>
void qtile_q6_k_q8_k_4x1(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  tile_q6_k<4, 1>(n, w, ws, a, as, o);
}

}  // namespace

}  // namespace ple::kernels
