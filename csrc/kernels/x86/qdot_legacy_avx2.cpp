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
// eight int32 partial sums, fused into an 8-lane accumulator. This differs from the __ref twin only
// in the order of the float additions (see tests/native/test_kernels_isa.cpp for the bound).
//
// Every kernel here is one template, `tile<Format, R, T>`: R weight rows x T activation rows
// (tokens) at once, so each weight block is unpacked once for T tokens and each activation block
// loaded once for R rows. The dot is the 1 x 1 tile, and every output of a larger tile runs the
// same operations in the same order, so tiles equal the dot bit for bit and callers may mix them.
#include <cstdint>
#include <cstring>
#include <utility>

#include "kernels/x86/avx2_helpers.h"
#include "kernels/x86/x86_intrin.h"
#include "kernels/x86/x86_kernels.h"
#include "quant/blocks.h"

namespace ple::kernels {
namespace {

// 16 bytes of packed nibbles -> 32 quants 0..15: low nibbles are elements 0..15, high 16..31.
// The 16 bytes go to both halves; the upper half's 32-bit words shift right by 4, which puts each
// byte's high nibble in its low nibble (the bits shifted in from the next byte are masked off).
__m256i unpack_nibbles(const uint8_t* qs) {
  const __m256i both = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)));
  return _mm256_and_si256(_mm256_srlv_epi32(both, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4)), _mm256_set1_epi8(0x0f));
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

// The block formats: how a weight block becomes 32 quants, and the offset its quants carry.
// Q8_0 weights are signed and take the widening path; the others are unsigned 0..15 / 0..31.
struct Q4_0 {
  using W = BlockQ4_0;
  using A = BlockQ8_0;
  static constexpr bool kSigned = false, kMin = false;
  static constexpr int8_t kOffset = 8;
  static __m256i quants(const W& x) { return unpack_nibbles(x.qs); }
};
struct Q5_0 {
  using W = BlockQ5_0;
  using A = BlockQ8_0;
  static constexpr bool kSigned = false, kMin = false;
  static constexpr int8_t kOffset = 16;
  static __m256i quants(const W& x) { return _mm256_or_si256(unpack_nibbles(x.qs), fifth_bits(x.qh)); }
};
struct Q8_0 {
  using W = BlockQ8_0;
  using A = BlockQ8_0;
  static constexpr bool kSigned = true, kMin = false;
  static constexpr int8_t kOffset = 0;
};
struct Q4_1 {
  using W = BlockQ4_1;
  using A = BlockQ8_1;
  static constexpr bool kSigned = false, kMin = true;
  static constexpr int8_t kOffset = 0;
  static __m256i quants(const W& x) { return unpack_nibbles(x.qs); }
};
struct Q5_1 {
  using W = BlockQ5_1;
  using A = BlockQ8_1;
  static constexpr bool kSigned = false, kMin = true;
  static constexpr int8_t kOffset = 0;
  static __m256i quants(const W& x) { return _mm256_or_si256(unpack_nibbles(x.qs), fifth_bits(x.qh)); }
};

// The fp16 scales (kMin == false) or minimums (true) of R blocks in the low lanes of a vector.
// pinsrw needs its lane as a constant, hence the index pack.
template <bool kMin, class W, int... I>
__m128i gather_halves(const W* const* wb, std::integer_sequence<int, I...>) {
  __m128i h = _mm_setzero_si128();
  if constexpr (kMin) {
    ((h = _mm_insert_epi16(h, wb[I]->m, I)), ...);
  } else {
    ((h = _mm_insert_epi16(h, wb[I]->d, I)), ...);
  }
  return h;
}

// 16 int8 -> 16 int16.
__m256i widen(const int8_t* p) { return _mm256_cvtepi8_epi16(load128(p)); }

// out[r * T + t] = dot(n, w + r * w_stride, a + t * a_stride) for r < R, t < T (strides in bytes).
// Per pair and block: the eight exact int32 partial sums of sum_j w_j * a_j, where unsigned
// quants u enter vpmaddubsw and the format's offset is taken off as offset * sum(a) (hoisted
// per token); signed Q8_0 quants are widened to int16 (vpmaddwd) so -128 * -128 stays exact.
// Q4_1 / Q5_1 add m * s per block: the weight minimum meets the activation's s = d_a * sum(q_a).
template <class F, int R, int T>
void tile(int64_t n, const void* w, size_t w_stride, const void* a, size_t a_stride, float* out) {
  static_assert(R >= 1 && R <= 4 && T >= 1, "scales of up to four rows share one vector");
  using W = typename F::W;
  using A = typename F::A;
  const auto* w_bytes = static_cast<const uint8_t*>(w);
  const auto* a_bytes = static_cast<const uint8_t*>(a);
  const int64_t nb = n / kQK;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[R][T];
  __m128 mins[T];  // lane r: the sum over blocks of m_r * s_t (Q4_1 / Q5_1)
  for (int t = 0; t < T; ++t) {
    mins[t] = _mm_setzero_ps();
    for (int r = 0; r < R; ++r) acc[r][t] = _mm256_setzero_ps();
  }
  for (int64_t b = 0; b < nb; ++b) {
    const W* wb[R];
    // The rows' fp16 scales (and minimums) in the lanes of one vector, converted in one go.
    for (int r = 0; r < R; ++r) {
      wb[r] = reinterpret_cast<const W*>(w_bytes + static_cast<size_t>(r) * w_stride) + b;
      // Several rows read in lockstep defeat the hardware stream prefetcher when the weights come
      // from memory (measured: a 4-row Q8_0 tile over a 30 MB matrix ran at half the speed of
      // the one-row dot); a software prefetch 2 KiB ahead in each row (measured best of 0.25-2 KiB)
      // brings it back to the dot's speed.
      if constexpr (R > 1) _mm_prefetch(reinterpret_cast<const char*>(wb[r]) + 2048, _MM_HINT_T0);
    }
    const __m128 d_w = _mm_cvtph_ps(gather_halves<false>(wb, std::make_integer_sequence<int, R>()));
    __m128 m_w = _mm_setzero_ps();
    if constexpr (F::kMin) m_w = _mm_cvtph_ps(gather_halves<true>(wb, std::make_integer_sequence<int, R>()));
    __m256i u[R];  // unsigned formats: each row's quants, unpacked once for all T tokens
    if constexpr (!F::kSigned) {
      for (int r = 0; r < R; ++r) u[r] = F::quants(*wb[r]);
    }
    for (int t = 0; t < T; ++t) {
      const A& ab = reinterpret_cast<const A*>(a_bytes + static_cast<size_t>(t) * a_stride)[b];
      // lane r: d_w[r] * d_a (exact: a product of two fp16 values fits a float32)
      const __m256 d = _mm256_castps128_ps256(_mm_mul_ps(d_w, _mm_set1_ps(half_to_float(ab.d))));
      if constexpr (F::kMin) {
        mins[t] = _mm_add_ps(mins[t], _mm_mul_ps(m_w, _mm_set1_ps(half_to_float(ab.s))));
      }
      if constexpr (F::kSigned) {
        const __m256i a_lo = widen(ab.qs), a_hi = widen(ab.qs + 16);
        for (int r = 0; r < R; ++r) {
          const __m256i isum = _mm256_add_epi32(_mm256_madd_epi16(widen(wb[r]->qs), a_lo),
                                                _mm256_madd_epi16(widen(wb[r]->qs + 16), a_hi));
          acc[r][t] = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(d, _mm256_set1_epi32(r)), _mm256_cvtepi32_ps(isum),
                                      acc[r][t]);
        }
      } else {
        const __m256i a_q = load256(ab.qs);
        __m256i a_off = _mm256_setzero_si256();
        if constexpr (F::kOffset != 0) a_off = _mm256_maddubs_epi16(_mm256_set1_epi8(F::kOffset), a_q);
        for (int r = 0; r < R; ++r) {
          __m256i pairs = _mm256_maddubs_epi16(u[r], a_q);  // |pair| <= 2 * 31 * 128
          if constexpr (F::kOffset != 0) pairs = _mm256_sub_epi16(pairs, a_off);
          const __m256i isum = _mm256_madd_epi16(pairs, ones);
          acc[r][t] = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(d, _mm256_set1_epi32(r)), _mm256_cvtepi32_ps(isum),
                                      acc[r][t]);
        }
      }
    }
  }
  for (int t = 0; t < T; ++t) {
    float m[4];
    _mm_storeu_ps(m, mins[t]);
    for (int r = 0; r < R; ++r) out[r * T + t] = F::kMin ? hsum(acc[r][t]) + m[r] : hsum(acc[r][t]);
  }
}

template <class F>
float dot(int64_t n, const void* w, const void* a) {
  float out;
  tile<F, 1, 1>(n, w, 0, a, 0, &out);
  return out;
}

}  // namespace

float qdot_q4_0_q8_0__avx2(int64_t n, const void* w, const void* a) { return dot<Q4_0>(n, w, a); }
float qdot_q5_0_q8_0__avx2(int64_t n, const void* w, const void* a) { return dot<Q5_0>(n, w, a); }
float qdot_q8_0_q8_0__avx2(int64_t n, const void* w, const void* a) { return dot<Q8_0>(n, w, a); }
float qdot_q4_1_q8_1__avx2(int64_t n, const void* w, const void* a) { return dot<Q4_1>(n, w, a); }
float qdot_q5_1_q8_1__avx2(int64_t n, const void* w, const void* a) { return dot<Q5_1>(n, w, a); }

#define PLE_TILES(type, act, F)                                                                            \
  void qtile_##type##_##act##_4x1__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) { \
    tile<F, 4, 1>(n, w, ws, a, as, o);                                                                    \
  }                                                                                                        \
  void qtile_##type##_##act##_2x4__avx2(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) { \
    tile<F, 2, 4>(n, w, ws, a, as, o);                                                                    \
  }
PLE_TILES(q4_0, q8_0, Q4_0)
PLE_TILES(q5_0, q8_0, Q5_0)
PLE_TILES(q8_0, q8_0, Q8_0)
PLE_TILES(q4_1, q8_1, Q4_1)
PLE_TILES(q5_1, q8_1, Q5_1)
#undef PLE_TILES

}  // namespace ple::kernels
