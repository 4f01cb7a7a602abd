// The x86 tile core of the 32-element block formats, Q4_0, Q5_0, Q8_0 x Q8_0 and Q4_1, Q5_1 x Q8_1, in
// 256-bit AVX2 + FMA + F16C intrinsics, built for avx2 and for avx512 (see avx2_helpers.h).
// One block is one 256-bit vector of 32 quants.
//
// Integer parts are exact for every byte pattern, activation quants of -128 included:
// - 4/5-bit weights enter vpmaddubsw as the unsigned operand (0..15 or 0..31), so a pair sum is
//   at most 2*31*128 = 7936 and never saturates; the format's offset (8 or 16) is taken off as a
//   second vpmaddubsw of the same activations against the constant offset.
// - Q8_0 weights are signed, so both operands are widened to int16 (vpmaddwd): the usual
//   abs/sign trick would turn -(-128) into -128.
// - The AVX-512 VNNI build forms the same integer sums with vpdpbusd instead: the integer steps
//   are the ISA policy's (policy_avx2.h, policy_avx512.h), the template parameter `Isa`.
// Float part: per block, acc = fma(d_w * d_a, float(sum), acc) with sum the block's exact integer
// sum (d_w * d_a is exact: a product of two fp16 values fits a float32). This differs from the
// __ref twin only in rounding order (see tests/native/test_kernels_isa.cpp for the bound). The
// prefill panels and packed GEMVs (qpanel_core_x86.h, qgemv_packed_core_x86.h) run the same per-block sequence.
//
// Every kernel here is one template, `tile<Isa, Format, R, T>`: R weight rows x T activation rows
// (tokens) at once, so each weight block is unpacked once for T tokens and each activation block
// loaded once for R rows. The dot is the 1 x 1 tile, and every output of a larger tile runs the
// same operations in the same order, so tiles equal the dot bit for bit and callers may mix them.
//
// The decode and prefill tiles are at the end (qdot_legacy_x86.h has the dots, 1 x 1); the thin
// qtile_legacy_<isa>.cpp files instantiate them with their ISA's policy and export them by name.
#pragma once
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
inline __m256i unpack_nibbles(const uint8_t* qs) {
  const __m256i both = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)));
  return _mm256_and_si256(_mm256_srlv_epi32(both, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4)), _mm256_set1_epi8(0x0f));
}

// Bit j of the 32-bit qh becomes 0x10 in byte j (the fifth bit of element j).
inline __m256i fifth_bits(const uint8_t qh_bytes[4]) {
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

// Lanes of the per-block float work: 4 rows in a __m128, 8 rows in a __m256.
template <int R>
struct Lanes;
template <>
struct Lanes<4> {
  using V = __m128;
  static V zero() { return _mm_setzero_ps(); }
  static V set1(float x) { return _mm_set1_ps(x); }
  static V mul(V a, V b) { return _mm_mul_ps(a, b); }
  static V add(V a, V b) { return _mm_add_ps(a, b); }
  static V fmadd(V a, V b, V c) { return _mm_fmadd_ps(a, b, c); }
  static V halves_to_float(__m128i h) { return _mm_cvtph_ps(h); }
  // Lane r: the full sum of the eight int32 lanes of s[r] (exact). Three vphaddd levels leave
  // row r's low-half sum in lane r and its high-half sum in lane r + 4.
  static V row_sums(const __m256i* s) {
    const __m256i q = _mm256_hadd_epi32(_mm256_hadd_epi32(s[0], s[1]), _mm256_hadd_epi32(s[2], s[3]));
    return _mm_cvtepi32_ps(_mm_add_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1)));
  }
  static void store(float* out, V v, int rows, int stride) {
    alignas(16) float f[4];
    _mm_store_ps(f, v);
    for (int r = 0; r < rows; ++r) out[r * stride] = f[r];
  }
};
template <>
struct Lanes<8> {
  using V = __m256;
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V halves_to_float(__m128i h) { return _mm256_cvtph_ps(h); }
  static V row_sums(const __m256i* s) {
    const __m256i q0 = _mm256_hadd_epi32(_mm256_hadd_epi32(s[0], s[1]), _mm256_hadd_epi32(s[2], s[3]));
    const __m256i q1 = _mm256_hadd_epi32(_mm256_hadd_epi32(s[4], s[5]), _mm256_hadd_epi32(s[6], s[7]));
    // q0 = [rows 0-3 low halves | rows 0-3 high halves], q1 the same for rows 4-7.
    const __m256i lo = _mm256_permute2x128_si256(q0, q1, 0x20), hi = _mm256_permute2x128_si256(q0, q1, 0x31);
    return _mm256_cvtepi32_ps(_mm256_add_epi32(lo, hi));
  }
  static void store(float* out, V v, int rows, int stride) {
    alignas(32) float f[8];
    _mm256_store_ps(f, v);
    for (int r = 0; r < rows; ++r) out[r * stride] = f[r];
  }
};

// out[r * T + t] = dot(n, w + r * w_stride, a + t * a_stride) for r < R, t < T (strides in bytes).
// Per pair and block: the exact int32 sum of w_j * a_j. Unsigned quants u enter the policy's
// running sum (AVX2: vpmaddubsw) and the format's offset is taken off as offset * sum(a) (once per
// token and block); signed Q8_0 quants take the policy's signed dot (AVX2: widened to int16,
// vpmaddwd, so -128 * -128 stays exact). The R rows' block sums are reduced into the lanes of one
// vector (row r in lane r, exact integer adds), so the float work per block is one conversion and
// one fma for all rows: acc_r += (d_w,r * d_a) * sum_r. Q4_1 / Q5_1 add m_r * s per block in a
// second accumulator. Rows beyond R in the lanes are zero. Every output runs this same sequence of
// float operations, so all tiles equal the 1 x 1 dot exactly.
template <class Isa, class F, int R, int T>
void tile(int64_t n, const void* w, size_t w_stride, const void* a, size_t a_stride, float* out) {
  static_assert(R >= 1 && R <= 8 && T >= 1, "up to eight rows share the lanes of one vector");
  using L = Lanes<(R <= 4 ? 4 : 8)>;
  constexpr int kLanes = R <= 4 ? 4 : 8;
  using V = typename L::V;
  using W = typename F::W;
  using A = typename F::A;
  const auto* w_bytes = static_cast<const uint8_t*>(w);
  const auto* a_bytes = static_cast<const uint8_t*>(a);
  const int64_t nb = n / kQK;
  V acc[T], mins[T];
  for (int t = 0; t < T; ++t) acc[t] = mins[t] = L::zero();
  for (int64_t b = 0; b < nb; ++b) {
    const W* wb[R];
    for (int r = 0; r < R; ++r) {
      wb[r] = reinterpret_cast<const W*>(w_bytes + static_cast<size_t>(r) * w_stride) + b;
      // Several rows read in lockstep defeat the hardware stream prefetcher when the weights come
      // from memory, so each row prefetches the same block of the row R below it: the next tile's
      // rows, whatever the row length (a fixed distance lands inside the current tile when rows
      // are short). A prefetch past the matrix's end is harmless (it never faults). Prefill tiles
      // re-read their rows from cache for every token group, so they skip it (bench/README.md,
      // "Decode tile prefetch").
      if constexpr (R > 1 && T == 1) _mm_prefetch(reinterpret_cast<const char*>(wb[r]) + R * w_stride, _MM_HINT_T0);
    }
    const V d_w = L::halves_to_float(gather_halves<false>(wb, std::make_integer_sequence<int, R>()));
    V m_w = L::zero();
    if constexpr (F::kMin) m_w = L::halves_to_float(gather_halves<true>(wb, std::make_integer_sequence<int, R>()));
    __m256i u[R];  // unsigned formats: each row's quants, unpacked once for all T tokens
    if constexpr (!F::kSigned) {
      for (int r = 0; r < R; ++r) u[r] = F::quants(*wb[r]);
    }
    for (int t = 0; t < T; ++t) {
      const A& ab = reinterpret_cast<const A*>(a_bytes + static_cast<size_t>(t) * a_stride)[b];
      __m256i s[kLanes];
      for (int r = R; r < kLanes; ++r) s[r] = _mm256_setzero_si256();
      if constexpr (F::kSigned) {
        const typename Isa::SignedBlock a_block = Isa::signed_block(ab.qs);
        for (int r = 0; r < R; ++r) s[r] = Isa::signed_dot(wb[r]->qs, a_block);
      } else {
        const __m256i a_q = load256(ab.qs);
        __m256i a_off = _mm256_setzero_si256();
        if constexpr (F::kOffset != 0) a_off = Isa::sum_dot(_mm256_setzero_si256(), _mm256_set1_epi8(F::kOffset), a_q);
        for (int r = 0; r < R; ++r) {
          __m256i sum = Isa::sum_dot(_mm256_setzero_si256(), u[r], a_q);  // AVX2: |pair| <= 2 * 31 * 128
          if constexpr (F::kOffset != 0) sum = Isa::sum_sub(sum, a_off);
          s[r] = Isa::lanes(sum);
        }
      }
      // lane r: d_w,r * d_a (exact: a product of two fp16 values fits a float32)
      acc[t] = L::fmadd(L::mul(d_w, L::set1(half_to_float(ab.d))), L::row_sums(s), acc[t]);
      if constexpr (F::kMin) mins[t] = L::fmadd(m_w, L::set1(half_to_float(ab.s)), mins[t]);
    }
  }
  for (int t = 0; t < T; ++t) L::store(out + t, F::kMin ? L::add(acc[t], mins[t]) : acc[t], R, T);
}

template <class Isa, class F>
float dot(int64_t n, const void* w, const void* a) {
  float out;
  tile<Isa, F, 1, 1>(n, w, 0, a, 0, &out);
  return out;
}

// Decode and prefill tiles (kernel_table.h, DotTileFn), every output equal to the dot bit for bit.
// Shapes (bench/README.md): 8 x 1 for decode; for prefill 4 x 4, except Q8_0, whose widened int16
// operands take more registers, at 4 x 3.
template <class Isa>
void qtile_q4_0_q8_0_8x1(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  tile<Isa, Q4_0, 8, 1>(n, w, ws, a, as, o);
}
template <class Isa>
void qtile_q5_0_q8_0_8x1(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  tile<Isa, Q5_0, 8, 1>(n, w, ws, a, as, o);
}
template <class Isa>
void qtile_q8_0_q8_0_8x1(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  tile<Isa, Q8_0, 8, 1>(n, w, ws, a, as, o);
}
template <class Isa>
void qtile_q4_1_q8_1_8x1(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  tile<Isa, Q4_1, 8, 1>(n, w, ws, a, as, o);
}
template <class Isa>
void qtile_q5_1_q8_1_8x1(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  tile<Isa, Q5_1, 8, 1>(n, w, ws, a, as, o);
}
template <class Isa>
void qtile_q4_0_q8_0_4x4(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  tile<Isa, Q4_0, 4, 4>(n, w, ws, a, as, o);
}
template <class Isa>
void qtile_q5_0_q8_0_4x4(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  tile<Isa, Q5_0, 4, 4>(n, w, ws, a, as, o);
}
template <class Isa>
void qtile_q8_0_q8_0_4x3(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  tile<Isa, Q8_0, 4, 3>(n, w, ws, a, as, o);
}
template <class Isa>
void qtile_q4_1_q8_1_4x4(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  tile<Isa, Q4_1, 4, 4>(n, w, ws, a, as, o);
}
template <class Isa>
void qtile_q5_1_q8_1_4x4(int64_t n, const void* w, size_t ws, const void* a, size_t as, float* o) {
  tile<Isa, Q5_1, 4, 4>(n, w, ws, a, as, o);
}

}  // namespace

}  // namespace ple::kernels
