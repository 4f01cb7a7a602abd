// The AVX-512 VNNI policy of the x86 kernel families (the `Isa` of their templates; the AVX2 one
// and what each operation means: policy_avx2.h). Included only by the *_avx512.cpp files, built
// with the AVX-512 F/BW/VL/VNNI flags; internal linkage, like every helper of the kernel files.
//
// The families' code stays 256-bit; this build gets EVEX encodings and 32 vector registers from
// the flags, and vpdpbusd from this policy: four u8 x s8 products summed into each int32 lane
// without saturating, so no int16 stage, no pair bound and no widening.
#pragma once
#include <cstdint>

#include "kernels/x86/avx2_helpers.h"
#include "kernels/x86/x86_intrin.h"

namespace ple::kernels {
namespace {

struct Avx512Vnni {
  // vpdpbusd cannot overflow for 32-element blocks: the Q8_0 prefill panel keeps whole signed
  // bytes in the Q4_0 panel's layout.
  static constexpr bool kSaturatingPairs = false;

  static __m256i dot4(__m256i acc, __m256i u, __m256i s) { return _mm256_dpbusd_epi32(acc, u, s); }

  // The running sum is int32 lanes from the start.
  static __m256i sum_dot(__m256i sum, __m256i u, __m256i s) { return _mm256_dpbusd_epi32(sum, u, s); }
  static __m256i sum_dot2(__m256i sum, __m256i u0, __m256i s0, __m256i u1, __m256i s1) {
    return _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(sum, u0, s0), u1, s1);
  }
  static constexpr int kVectorRegisters = 32;  // ymm registers the kernels may plan for
  static __m256i sum_sub(__m256i sum, __m256i other) { return _mm256_sub_epi32(sum, other); }
  static __m256i sum_add(__m256i sum, __m256i other) { return _mm256_add_epi32(sum, other); }
  static __m256i lanes(__m256i sum) { return sum; }

  // Signed weights enter as w + 128 (an xor of the sign bit), unsigned, and 128 * sum(a), formed
  // once per activation block, is taken off. The lanes hold other partial sums than AVX2's
  // vpmaddwd, but every row's total over the lanes is the same exact integer.
  struct SignedBlock {
    __m256i q, offset;
  };
  static SignedBlock signed_block(const int8_t* a) {
    const __m256i q = load256(a);
    return {q, _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(static_cast<char>(0x80)), q)};
  }
  static __m256i signed_dot(const int8_t* w, const SignedBlock& a) {
    const __m256i w_u = _mm256_xor_si256(load256(w), _mm256_set1_epi8(static_cast<char>(0x80)));
    return _mm256_sub_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), w_u, a.q), a.offset);
  }
};

}  // namespace
}  // namespace ple::kernels
