// Helpers of the AArch64 kernel files, included only by them. Everything has internal linkage
// (anonymous namespace): each ISA file compiles its own copy with its own flags, so the linker can
// never keep a dotprod-built copy for the baseline code (the cortex-a72 CI run would catch it).
// No <cmath> or other inline library functions either, for the same reason.
#pragma once
#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "quant/blocks.h"

namespace ple::kernels {
namespace {

// fcvt between binary16 and binary32 is baseline AArch64. Widening is exact (subnormals
// included); narrowing rounds to nearest-even under the default FPCR, as fp32_to_fp16 does.
inline float half_to_float(uint16_t h) { return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0); }
inline uint16_t float_to_half(float f) { return vget_lane_u16(vreinterpret_u16_f16(vcvt_f16_f32(vdupq_n_f32(f))), 0); }
// Four halves at once: [h0, h1, h2, h3] as floats.
inline float32x4_t halves_to_floats(uint16_t h0, uint16_t h1, uint16_t h2, uint16_t h3) {
  const uint16_t h[4] = {h0, h1, h2, h3};
  return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h)));
}

inline float bf16_to_float(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline bool is_inf(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return (bits & 0x7fffffffu) == 0x7f800000u;
}

// 16 bytes of packed nibbles -> lo: low nibbles, hi: high nibbles (0..15 each).
inline void unpack_nibbles(const uint8_t* qs, int8x16_t& lo, int8x16_t& hi) {
  const uint8x16_t raw = vld1q_u8(qs);
  lo = vreinterpretq_s8_u8(vandq_u8(raw, vdupq_n_u8(0x0f)));
  hi = vreinterpretq_s8_u8(vshrq_n_u8(raw, 4));
}

// The fifth bits of a Q5_0/Q5_1 block as masks: byte j of lo (elements 0..15) and hi (16..31) is
// 0xff where bit j of the little-endian 32-bit qh is set. One table lookup spreads each qh byte
// over the eight bytes that test its bits.
alignas(16) const uint8_t kQhByteOfElement[32] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                                  2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};
alignas(16) const uint8_t kBitOfByte[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
inline void fifth_bit_masks(const uint8_t qh[4], uint8x16_t& lo, uint8x16_t& hi) {
  uint32_t bits;
  std::memcpy(&bits, qh, sizeof bits);
  const uint8x16_t all = vreinterpretq_u8_u32(vdupq_n_u32(bits)), bit = vld1q_u8(kBitOfByte);
  lo = vtstq_u8(vqtbl1q_u8(all, vld1q_u8(kQhByteOfElement)), bit);
  hi = vtstq_u8(vqtbl1q_u8(all, vld1q_u8(kQhByteOfElement + 16)), bit);
}

// The int8 weight quants of one Q5_0 block (kOffset: nibble | fifth bit << 4, minus 16, i.e. the
// nibble minus 16 where the fifth bit is clear) or Q5_1 block (nibble | fifth bit << 4, 0..31).
template <bool kOffset, class Block>
inline void q5_quants(const Block& x, int8x16_t& lo, int8x16_t& hi) {
  uint8x16_t m_lo, m_hi;
  unpack_nibbles(x.qs, lo, hi);
  fifth_bit_masks(x.qh, m_lo, m_hi);
  const uint8x16_t sixteen = vdupq_n_u8(16);
  if constexpr (kOffset) {
    lo = vsubq_s8(lo, vreinterpretq_s8_u8(vbicq_u8(sixteen, m_lo)));
    hi = vsubq_s8(hi, vreinterpretq_s8_u8(vbicq_u8(sixteen, m_hi)));
  } else {
    lo = vorrq_s8(lo, vreinterpretq_s8_u8(vandq_u8(m_lo, sixteen)));
    hi = vorrq_s8(hi, vreinterpretq_s8_u8(vandq_u8(m_hi, sixteen)));
  }
}
inline void q5_0_quants(const BlockQ5_0& x, int8x16_t& lo, int8x16_t& hi) { q5_quants<true>(x, lo, hi); }
inline void q5_1_quants(const BlockQ5_1& x, int8x16_t& lo, int8x16_t& hi) { q5_quants<false>(x, lo, hi); }

// The reference's float step for four rows: sum += (d_w * d_a) * isum (+ m * s with a minimum).
inline float32x4_t accumulate(float32x4_t sum, float32x4_t dw, float da, int32x4_t isum) {
  return vaddq_f32(sum, vmulq_f32(vmulq_n_f32(dw, da), vcvtq_f32_s32(isum)));
}
// The same for a sum of 16 * isum (exact: |isum| < 2^24, so isum16 / 16 converts without rounding).
inline float32x4_t accumulate_x16(float32x4_t sum, float32x4_t dw, float da, int32x4_t isum16) {
  return vaddq_f32(sum, vmulq_f32(vmulq_n_f32(dw, da), vcvtq_n_f32_s32(isum16, 4)));
}
inline float32x4_t accumulate_min(float32x4_t sum, float32x4_t dw, float da, int32x4_t isum, float32x4_t m, float s) {
  return vaddq_f32(sum, vaddq_f32(vmulq_f32(vmulq_n_f32(dw, da), vcvtq_f32_s32(isum)), vmulq_n_f32(m, s)));
}

}  // namespace
}  // namespace ple::kernels
