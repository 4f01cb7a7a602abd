// The AVX2 policy of the x86 kernel families (the `Isa` of their templates, as ARM's `Neon` /
// `DotProd`): the few integer operations in which the AVX2 and AVX-512 VNNI builds differ.
// Included only by the *_avx2.cpp files, built with the AVX2 flags; internal linkage, like every
// helper of the kernel files (avx2_helpers.h). Its AVX-512 twin: policy_avx512.h.
//
// u8 x s8 products go through vpmaddubsw, whose int16 pair sums saturate: callers keep them below
// 2^15 (4/5-bit weights, or a signed byte against |a| <= 128 with the -128 weight excluded), and
// vpmaddwd against ones widens the pairs into int32 lanes.
#pragma once
#include <cstdint>

#include "kernels/x86/avx2_helpers.h"
#include "kernels/x86/x86_intrin.h"

namespace ple::kernels {
namespace {

struct Avx2 {
  // A whole signed byte against an unsigned activation (2 * 255 * 128) would saturate a pair: the
  // Q8_0 prefill panel splits its weight bytes into nibbles (qpanel_core_x86.h).
  static constexpr bool kSaturatingPairs = true;

  // acc + in each int32 lane the sum of its four products u * s (u unsigned, s signed).
  static __m256i dot4(__m256i acc, __m256i u, __m256i s) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
  }

  // Products summed over several vectors before they are needed in int32: a running sum that
  // starts at zero, here int16 pair sums (the caller bounds the total below 2^15), widened once
  // by lanes() into the int32 lanes of four products each.
  static __m256i sum_dot(__m256i sum, __m256i u, __m256i s) { return _mm256_add_epi16(sum, _mm256_maddubs_epi16(u, s)); }
  static __m256i sum_dot2(__m256i sum, __m256i u0, __m256i s0, __m256i u1, __m256i s1) {
    return _mm256_add_epi16(sum, _mm256_add_epi16(_mm256_maddubs_epi16(u0, s0), _mm256_maddubs_epi16(u1, s1)));
  }
  static constexpr int kVectorRegisters = 16;  // ymm registers the kernels may plan for
  static __m256i sum_sub(__m256i sum, __m256i other) { return _mm256_sub_epi16(sum, other); }
  static __m256i sum_add(__m256i sum, __m256i other) { return _mm256_add_epi16(sum, other); }
  static __m256i lanes(__m256i sum) { return _mm256_madd_epi16(sum, _mm256_set1_epi16(1)); }

  // Signed weights against signed activations over one 32-element block, exact for every byte
  // pattern (-128 x -128 included): both widened to int16, vpmaddwd. The activation half is
  // prepared once per block and shared by the rows.
  struct SignedBlock {
    __m256i lo, hi;
  };
  static __m256i widen(const int8_t* p) { return _mm256_cvtepi8_epi16(load128(p)); }  // 16 int8 -> 16 int16
  static SignedBlock signed_block(const int8_t* a) { return {widen(a), widen(a + 16)}; }
  // Row sums of w * a in int32 lanes (which lanes hold which partial sums is the policy's own).
  static __m256i signed_dot(const int8_t* w, const SignedBlock& a) {
    return _mm256_add_epi32(_mm256_madd_epi16(widen(w), a.lo), _mm256_madd_epi16(widen(w + 16), a.hi));
  }
};

}  // namespace
}  // namespace ple::kernels
