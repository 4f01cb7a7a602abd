// Dots (kernel_table.h, DotFn) of the k-quants (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K) against Q8_K, as
// templates over the x86 ISA policy (policy_avx2.h). Contracts and overflow bounds:
// qtile_kquants_x86.h. Included only by qdot_kquants_avx2.cpp and qdot_kquants_avx512.cpp, which
// instantiate them with their policy and export them by name; internal linkage.
// Kernels that need none of the policy's operations still take it, so that every x86 family is
// instantiated the same way.
#pragma once
#include "kernels/x86/qtile_kquants_x86.h"

namespace ple::kernels {
namespace {

template <class Isa>
float qdot_q2_k_q8_k(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const BlockQ2_K*>(w);
  const auto* ab = static_cast<const BlockQ8_K*>(a);
  const __m256i two_bits = _mm256_set1_epi8(3);
  __m256 acc = _mm256_setzero_ps();
  float mins = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ2_K& x = wb[b];
    const BlockQ8_K& y = ab[b];
    const __m128i packed = load128(x.scales);  // low nibble: scale, high nibble: min
    const __m128i sc8 = _mm_and_si128(packed, _mm_set1_epi8(0x0f));
    const __m256i mins16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), _mm_set1_epi8(0x0f)));
    const int32_t msum = hsum_i32(_mm256_madd_epi16(load256(y.bsums), mins16));
    __m256i isum = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {  // 128 elements: sub-blocks 8h .. 8h+7
      const __m256i scales = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(h ? _mm_srli_si128(sc8, 8) : sc8));
      __m256i q = load256(x.qs + 32 * h);
      for (int s = 0; s < 4; ++s) {  // elements 128h + 32s + l sit in bits 2s..2s+1 of byte l
        const __m256i u = _mm256_and_si256(q, two_bits);
        isum = _mm256_add_epi32(isum, scaled_dot(u, load256(y.qs + 128 * h + 32 * s), scale_pair(scales, s), 0));
        q = _mm256_srli_epi16(q, 2);
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(x.d) * y.d), _mm256_cvtepi32_ps(isum), acc);
    mins += half_to_float(x.dmin) * y.d * static_cast<float>(msum);
  }
  return hsum(acc) - mins;
}

template <class Isa>
float qdot_q3_k_q8_k(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const BlockQ3_K*>(w);
  const auto* ab = static_cast<const BlockQ8_K*>(a);
  const __m256i two_bits = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ3_K& x = wb[b];
    const BlockQ8_K& y = ab[b];
    const __m128i sc8 = unpack_scales_q3_k(x.scales);
    __m256i hm = load256(x.hmask);  // bit (e / 32) of hmask[e % 32]
    __m256i isum = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i scales = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(h ? _mm_srli_si128(sc8, 8) : sc8));
      __m256i q = load256(x.qs + 32 * h);
      for (int s = 0; s < 4; ++s) {
        // u = low two bits + 4 * high bit, 0..7; the quant is u - 4.
        const __m256i u = _mm256_or_si256(_mm256_and_si256(q, two_bits), _mm256_slli_epi16(_mm256_and_si256(hm, one), 2));
        isum = _mm256_add_epi32(isum, scaled_dot(u, load256(y.qs + 128 * h + 32 * s), scale_pair(scales, s), 4));
        q = _mm256_srli_epi16(q, 2);
        hm = _mm256_srli_epi16(hm, 1);  // the next byte's bits enter at the top: bit 0 is clean for 7 shifts
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(x.d) * y.d), _mm256_cvtepi32_ps(isum), acc);
  }
  return hsum(acc);
}

template <class Isa>
float qdot_q4_k_q8_k(int64_t n, const void* w, const void* a) { return dot_k4<BlockQ4_K, false>(n, w, a); }

template <class Isa>
float qdot_q5_k_q8_k(int64_t n, const void* w, const void* a) { return dot_k4<BlockQ5_K, true>(n, w, a); }

template <class Isa>
float qdot_q6_k_q8_k(int64_t n, const void* w, const void* a) {
  float out;
  tile_q6_k<1, 1>(n, w, 0, a, 0, &out);
  return out;
}

}  // namespace
}  // namespace ple::kernels
