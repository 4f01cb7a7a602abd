// Small helpers of the x86 kernel files written with 256-bit AVX2 intrinsics: the *_avx2.cpp
// files and the kernel families (*_x86.h) that are built once per x86 ISA. Internal linkage
// (anonymous namespace), so no copy can be kept by the linker for code built with other flags.
//
// A family header's kernels are templates over an ISA policy, as on ARM: `Avx2` (policy_avx2.h)
// or `Avx512Vnni` (policy_avx512.h), structs of the few integer operations in which the builds
// differ. Each thin <family>_<isa>.cpp includes the family header and its own ISA's policy header
// and exports the kernels as <kernel>__<isa> (x86_kernels.h). Everything has internal linkage,
// the policies and every instantiation included, so each file's copy is built with its own flags.
#pragma once
#include <cstdint>
#include <cstring>

#include "kernels/x86/x86_intrin.h"

namespace ple::kernels {
namespace {

inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline int32_t hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline __m128i load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Q4_K / Q5_K: 8 six-bit scales and mins from 12 bytes (layout in ref_kquants.cpp), as bytes
// [sc0..sc7, m0..m7].
inline __m128i unpack_scales_mins_k4(const uint8_t packed[12]) {
  const uint32_t w0 = load_u32(packed), w1 = load_u32(packed + 4), w2 = load_u32(packed + 8);
  const uint32_t sc_lo = w0 & 0x3f3f3f3fu;
  const uint32_t m_lo = w1 & 0x3f3f3f3fu;
  const uint32_t sc_hi = (w2 & 0x0f0f0f0fu) | ((w0 >> 2) & 0x30303030u);
  const uint32_t m_hi = ((w2 >> 4) & 0x0f0f0f0fu) | ((w1 >> 2) & 0x30303030u);
  return _mm_setr_epi32(static_cast<int>(sc_lo), static_cast<int>(sc_hi), static_cast<int>(m_lo), static_cast<int>(m_hi));
}

}  // namespace
}  // namespace ple::kernels
