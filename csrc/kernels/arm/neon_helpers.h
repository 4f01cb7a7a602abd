// Helpers of the AArch64 kernel files, included only by them. Everything has internal linkage
// (anonymous namespace): each ISA file compiles its own copy with its own flags, so the linker can
// never keep a dotprod-built copy for the baseline code (the cortex-a72 CI run would catch it).
// No <cmath> or other inline library functions either, for the same reason.
#pragma once
#include <arm_neon.h>

#include <cstdint>
#include <cstring>

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

// Byte j of the result tests bit j % 8 (vtstq against a broadcast byte).
alignas(16) const uint8_t kBitOfByte[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};

// 16 bytes of packed nibbles -> lo: low nibbles, hi: high nibbles (0..15 each).
inline void unpack_nibbles(const uint8_t* qs, int8x16_t& lo, int8x16_t& hi) {
  const uint8x16_t raw = vld1q_u8(qs);
  lo = vreinterpretq_s8_u8(vandq_u8(raw, vdupq_n_u8(0x0f)));
  hi = vreinterpretq_s8_u8(vshrq_n_u8(raw, 4));
}

// The fifth bits of a Q5_0/Q5_1 block: bit j of the little-endian 32-bit qh becomes 0x10 in byte
// j; lo holds elements 0..15, hi 16..31.
inline void fifth_bits(const uint8_t qh[4], int8x16_t& lo, int8x16_t& hi) {
  const uint8x16_t bit = vld1q_u8(kBitOfByte), v10 = vdupq_n_u8(0x10);
  lo = vreinterpretq_s8_u8(vandq_u8(vtstq_u8(vcombine_u8(vdup_n_u8(qh[0]), vdup_n_u8(qh[1])), bit), v10));
  hi = vreinterpretq_s8_u8(vandq_u8(vtstq_u8(vcombine_u8(vdup_n_u8(qh[2]), vdup_n_u8(qh[3])), bit), v10));
}

}  // namespace
}  // namespace ple::kernels
