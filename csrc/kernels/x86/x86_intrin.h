// The intrinsics header of the x86 kernel files (and nothing else: no inline code of our own, so
// no helper can be instantiated here with wider flags and kept by the linker for baseline code).
// The emulation test build (PYLLAMA_EDGE_EMULATE_AVX512) compiles the AVX-512 files against
// SIMDe's portable implementations, so their logic can be tested on CPUs without AVX-512.
#pragma once
#if defined(PLE_SIMDE_AVX512)
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>

#include <cstdint>
#include <cstring>
// Test build only: what SIMDe 0.7 lacks, lane by lane (slow and obviously right). Internal
// linkage, like every helper of the kernel files.
namespace ple_simde_emu {
namespace {
template <class To, class From>
To bits(const From& from) {
  static_assert(sizeof(To) == sizeof(From), "same size");
  To to;
  std::memcpy(&to, &from, sizeof to);
  return to;
}
struct F16 { float v[16]; };
struct I16 { int32_t v[16]; };
struct H16 { uint16_t v[16]; };
inline simde__m512 maskz_loadu_ps(simde__mmask16 m, const void* p) {
  F16 r{};
  for (int i = 0; i < 16; ++i) if ((m >> i) & 1) std::memcpy(&r.v[i], static_cast<const char*>(p) + 4 * i, 4);
  return bits<simde__m512>(r);
}
inline void mask_storeu_ps(void* p, simde__mmask16 m, simde__m512 a) {
  const F16 x = bits<F16>(a);
  for (int i = 0; i < 16; ++i) if ((m >> i) & 1) std::memcpy(static_cast<char*>(p) + 4 * i, &x.v[i], 4);
}
inline simde__m256i maskz_loadu_epi16(simde__mmask16 m, const void* p) {
  H16 r{};
  for (int i = 0; i < 16; ++i) if ((m >> i) & 1) std::memcpy(&r.v[i], static_cast<const char*>(p) + 2 * i, 2);
  return bits<simde__m256i>(r);
}
inline simde__m512 cvtph_ps(simde__m256i a) {
  const H16 h = bits<H16>(a);
  F16 r;
  for (int i = 0; i < 16; ++i) r.v[i] = _cvtsh_ss(h.v[i]);
  return bits<simde__m512>(r);
}
inline simde__m512i cvtepu16_epi32(simde__m256i a) {
  const H16 h = bits<H16>(a);
  I16 r;
  for (int i = 0; i < 16; ++i) r.v[i] = h.v[i];
  return bits<simde__m512i>(r);
}
inline simde__m512i cvtepi8_epi32(simde__m128i a) {
  int8_t b[16];
  std::memcpy(b, &a, sizeof b);
  I16 r;
  for (int i = 0; i < 16; ++i) r.v[i] = b[i];
  return bits<simde__m512i>(r);
}
inline simde__m512 cvtepi32_ps(simde__m512i a) {
  const I16 x = bits<I16>(a);
  F16 r;
  for (int i = 0; i < 16; ++i) r.v[i] = static_cast<float>(x.v[i]);
  return bits<simde__m512>(r);
}
inline simde__m512i cvttps_epi32(simde__m512 a) {  // in-range inputs only (all the kernels make)
  const F16 x = bits<F16>(a);
  I16 r;
  for (int i = 0; i < 16; ++i) r.v[i] = static_cast<int32_t>(x.v[i]);
  return bits<simde__m512i>(r);
}
// SIMDe 0.7.4's roundscale reads the immediate wrongly (it keeps fraction bits for M = 0);
// this one does M = 0 with the rounding mode of imm[1:0] (imm[2] = 0), as the kernels use it.
inline simde__m512 roundscale_ps(simde__m512 a, int imm) {
  F16 x = bits<F16>(a);
  for (float& v : x.v) {
    switch (imm & 3) {
      case 0: v = __builtin_nearbyintf(v); break;
      case 1: v = __builtin_floorf(v); break;
      case 2: v = __builtin_ceilf(v); break;
      default: v = __builtin_truncf(v); break;
    }
  }
  return bits<simde__m512>(x);
}
}  // namespace
}  // namespace ple_simde_emu
#undef _mm512_roundscale_ps
#define _mm512_roundscale_ps ple_simde_emu::roundscale_ps
#define _mm512_maskz_loadu_ps ple_simde_emu::maskz_loadu_ps
#define _mm512_mask_storeu_ps ple_simde_emu::mask_storeu_ps
#define _mm256_maskz_loadu_epi16 ple_simde_emu::maskz_loadu_epi16
#define _mm512_cvtph_ps ple_simde_emu::cvtph_ps
#define _mm512_cvtepu16_epi32 ple_simde_emu::cvtepu16_epi32
#define _mm512_cvtepi32_ps ple_simde_emu::cvtepi32_ps
#define _mm512_cvtepi8_epi32 ple_simde_emu::cvtepi8_epi32
#define _mm512_cvttps_epi32 ple_simde_emu::cvttps_epi32
#else
// gcc 12's AVX-512 headers build _mm512_undefined_*() from self-initialised variables, which
// -W(maybe-)uninitialized reports wherever such an intrinsic (cvtph_ps, extractf64x4, ...) is
// inlined. The warnings are located in the header, so they are silenced for the header only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif
