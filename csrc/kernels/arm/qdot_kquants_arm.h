// Dots of the k-quants (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K) against Q8_K, shared by the NEON and dotprod
// tiers through the integer primitive `Isa::dot16(acc, x, y)` (acc plus 16 int8 products in four
// int32 lanes). Included only by qdot_kquants_neon.cpp and qdot_kquants_dotprod.cpp; internal
// linkage, so each file instantiates its own copy with its own flags.
//
// Each 16-element run of a sub-block is unpacked to int8 quants in the element order of the
// __ref twin (layouts in kernels/ref/ref_kquants.cpp), its integer dot is multiplied by the
// sub-block scale in int32 lanes (mla), and the super-block's lanes are summed once: exact, as
// the reference (|sum| < 2^31 for every format). The minimum terms use the activation's bsums
// as the reference does. The float part repeats the reference's operations in its order, so the
// results equal the __ref twins bit for bit.
#pragma once
#include <arm_neon.h>

#include <cstdint>

#include "kernels/arm/neon_helpers.h"
#include "quant/blocks.h"

namespace ple::kernels {
namespace {

// acc + scale * (16-element integer dot of q and a), in int32 lanes.
template <class Isa>
int32x4_t scaled_dot16(int32x4_t acc, int8x16_t q, const int8_t* a, int32_t scale) {
  return vmlaq_n_s32(acc, Isa::dot16(vdupq_n_s32(0), q, vld1q_s8(a)), scale);
}

// Q2_K's sub-blocks 8h + 2s and 8h + 2s + 1 (elements 128h + 32s + 0..15 and 16..31) as quants
// 0..3: byte l of qs[32h ..] holds element 128h + 32s + l at bits 2s..2s+1.
inline void run_pair(const BlockQ2_K& x, int h, int s, int8x16_t& first, int8x16_t& second) {
  const uint8x16_t two_bits = vdupq_n_u8(3);
  const int8x16_t down = vdupq_n_s8(static_cast<int8_t>(-2 * s));
  first = vreinterpretq_s8_u8(vandq_u8(vshlq_u8(vld1q_u8(x.qs + 32 * h), down), two_bits));
  second = vreinterpretq_s8_u8(vandq_u8(vshlq_u8(vld1q_u8(x.qs + 32 * h + 16), down), two_bits));
}

// Q3_K's 16 signed six-bit scales (stored +32), as in the reference.
inline void unpack_scales_q3_k(const uint8_t packed[12], int32_t sc[16]) {
  for (int k = 0; k < 16; ++k) {
    const int low = (packed[k % 8] >> (k < 8 ? 0 : 4)) & 0x0f;
    const int high = (packed[8 + k % 4] >> (2 * (k / 4))) & 3;
    sc[k] = (low | (high << 4)) - 32;
  }
}

// Q3_K's sub-blocks 8h + 2s and 8h + 2s + 1 as quants -4..3: element e = 128h + 32s + l takes
// its two low bits as Q2_K's, minus 4 where bit 4h + s of hmask[l] is clear.
inline void run_pair(const BlockQ3_K& x, int h, int s, int8x16_t& first, int8x16_t& second) {
  const uint8x16_t two_bits = vdupq_n_u8(3), four = vdupq_n_u8(4);
  const uint8x16_t bit = vdupq_n_u8(static_cast<uint8_t>(1u << (4 * h + s)));
  const int8x16_t down = vdupq_n_s8(static_cast<int8_t>(-2 * s));
  const uint8x16_t low0 = vandq_u8(vshlq_u8(vld1q_u8(x.qs + 32 * h), down), two_bits);
  const uint8x16_t low1 = vandq_u8(vshlq_u8(vld1q_u8(x.qs + 32 * h + 16), down), two_bits);
  first = vsubq_s8(vreinterpretq_s8_u8(low0), vreinterpretq_s8_u8(vbicq_u8(four, vtstq_u8(vld1q_u8(x.hmask), bit))));
  second = vsubq_s8(vreinterpretq_s8_u8(low1), vreinterpretq_s8_u8(vbicq_u8(four, vtstq_u8(vld1q_u8(x.hmask + 16), bit))));
}

// A Q2_K or Q3_K super-block's quants as 16 runs of 16 elements: run(j, q) gets sub-block j.
template <class Block, class Run>
inline void k16_runs(const Block& x, Run run) {
  for (int h = 0; h < 2; ++h) {
    for (int s = 0; s < 4; ++s) {
      int8x16_t first, second;
      run_pair(x, h, s, first, second);
      run(8 * h + 2 * s, first);
      run(8 * h + 2 * s + 1, second);
    }
  }
}

template <class Isa>
float dot_q2_k(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const BlockQ2_K*>(w);
  const auto* ab = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ2_K& x = wb[b];
    const BlockQ8_K& y = ab[b];
    int32x4_t acc = vdupq_n_s32(0);
    k16_runs(x, [&](int j, int8x16_t q) { acc = scaled_dot16<Isa>(acc, q, y.qs + 16 * j, x.scales[j] & 0x0f); });
    // Minimum terms: sum over j of (scales[j] >> 4) * bsums[j], |each| <= 15 * 32768.
    const uint8x16_t mins = vshrq_n_u8(vld1q_u8(x.scales), 4);
    const int16x8_t m_lo = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(mins)));
    const int16x8_t m_hi = vreinterpretq_s16_u16(vmovl_high_u8(mins));
    const int16x8_t b_lo = vld1q_s16(y.bsums), b_hi = vld1q_s16(y.bsums + 8);
    int32x4_t m = vmull_s16(vget_low_s16(m_lo), vget_low_s16(b_lo));
    m = vmlal_high_s16(m, m_lo, b_lo);
    m = vmlal_s16(m, vget_low_s16(m_hi), vget_low_s16(b_hi));
    m = vmlal_high_s16(m, m_hi, b_hi);
    const float d = half_to_float(x.d) * y.d;
    const float dmin = half_to_float(x.dmin) * y.d;
    sum += d * static_cast<float>(vaddvq_s32(acc)) - dmin * static_cast<float>(vaddvq_s32(m));
  }
  return sum;
}

template <class Isa>
float dot_q3_k(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const BlockQ3_K*>(w);
  const auto* ab = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ3_K& x = wb[b];
    const BlockQ8_K& y = ab[b];
    int32_t sc[16];
    unpack_scales_q3_k(x.scales, sc);
    int32x4_t acc = vdupq_n_s32(0);
    k16_runs(x, [&](int j, int8x16_t q) { acc = scaled_dot16<Isa>(acc, q, y.qs + 16 * j, sc[j]); });
    sum += half_to_float(x.d) * y.d * static_cast<float>(vaddvq_s32(acc));
  }
  return sum;
}

// Q4_K / Q5_K: 8 six-bit scales and mins in 12 bytes, as in the reference.
inline void unpack_scales_mins_k4(const uint8_t packed[kKScaleBytes], int32_t sc[8], int32_t m[8]) {
  for (int j = 0; j < 4; ++j) {
    sc[j] = packed[j] & 63;
    m[j] = packed[j + 4] & 63;
  }
  for (int j = 4; j < 8; ++j) {
    sc[j] = (packed[j + 4] & 0x0f) | ((packed[j - 4] >> 6) << 4);
    m[j] = (packed[j + 4] >> 4) | ((packed[j] >> 6) << 4);
  }
}

// Q5_K quants (0..31) from a vector of nibble bytes and the matching fifth-bit bytes: the low
// nibbles take bit 2c (to_bit0 = -2c: qh >> 2c inserted above the nibble by sli), the high
// nibbles bit 2c + 1 (to_bit4 = 3 - 2c: qh shifted so that bit lands on bit 4, the nibble
// inserted below it by sri); bits 5..7 cleared.
inline uint8x16_t five_bit_low(uint8x16_t nibbles, uint8x16_t qh, int8x16_t to_bit0) {
  return vandq_u8(vsliq_n_u8(nibbles, vshlq_u8(qh, to_bit0), 4), vdupq_n_u8(0x1f));
}
inline uint8x16_t five_bit_high(uint8x16_t nibbles, uint8x16_t qh, int8x16_t to_bit4) {
  return vandq_u8(vsriq_n_u8(vshlq_u8(qh, to_bit4), nibbles, 4), vdupq_n_u8(0x1f));
}
inline int8x16_t fifth_bit_shift_low(int c) { return vdupq_n_s8(static_cast<int8_t>(-2 * c)); }
inline int8x16_t fifth_bit_shift_high(int c) { return vdupq_n_s8(static_cast<int8_t>(3 - 2 * c)); }

// Chunk c of a Q4_K / Q5_K super-block as int8 quants: lo0/lo1 elements 64c + 0..31 (sub-block
// 2c), hi0/hi1 64c + 32..63 (sub-block 2c + 1). qh0/qh1: Q5_K's fifth-bit bytes (kFifth).
template <bool kFifth>
inline void k4_chunk_quants(const uint8_t* qs, uint8x16_t qh0, uint8x16_t qh1, int c, int8x16_t& lo0, int8x16_t& lo1,
                            int8x16_t& hi0, int8x16_t& hi1) {
  const uint8x16_t q0 = vld1q_u8(qs + 32 * c), q1 = vld1q_u8(qs + 32 * c + 16);
  uint8x16_t l0, l1, h0, h1;
  if constexpr (kFifth) {
    const int8x16_t to_bit0 = fifth_bit_shift_low(c), to_bit4 = fifth_bit_shift_high(c);
    l0 = five_bit_low(q0, qh0, to_bit0);
    l1 = five_bit_low(q1, qh1, to_bit0);
    h0 = five_bit_high(q0, qh0, to_bit4);
    h1 = five_bit_high(q1, qh1, to_bit4);
  } else {
    const uint8x16_t nibble = vdupq_n_u8(0x0f);
    l0 = vandq_u8(q0, nibble);
    l1 = vandq_u8(q1, nibble);
    h0 = vshrq_n_u8(q0, 4);
    h1 = vshrq_n_u8(q1, 4);
  }
  lo0 = vreinterpretq_s8_u8(l0);
  lo1 = vreinterpretq_s8_u8(l1);
  hi0 = vreinterpretq_s8_u8(h0);
  hi1 = vreinterpretq_s8_u8(h1);
}

// Q4_K / Q5_K super-block: chunk c (64 elements) holds elements 64c + l in the low nibbles of
// qs[32c + l] (sub-block 2c) and 64c + 32 + l in the high ones (sub-block 2c + 1). With qh (Q5_K)
// the fifth bit of element e is bit e / 32 of qh[e % 32].
template <class Isa, bool kFifth>
float dot_k4_block(uint16_t d16, uint16_t dmin16, const uint8_t scales[kKScaleBytes], const uint8_t* qs,
                   const uint8_t* qh, const BlockQ8_K& y) {
  int32_t sc[8], m[8];
  unpack_scales_mins_k4(scales, sc, m);
  uint8x16_t qh0 = vdupq_n_u8(0), qh1 = vdupq_n_u8(0);
  if constexpr (kFifth) {
    qh0 = vld1q_u8(qh);
    qh1 = vld1q_u8(qh + 16);
  }
  int32x4_t acc = vdupq_n_s32(0);
  for (int c = 0; c < 4; ++c) {
    int8x16_t lo0, lo1, hi0, hi1;
    k4_chunk_quants<kFifth>(qs, qh0, qh1, c, lo0, lo1, hi0, hi1);
    const int8_t* ya = y.qs + 64 * c;
    int32x4_t p = Isa::dot16(Isa::dot16(vdupq_n_s32(0), lo0, vld1q_s8(ya)), lo1, vld1q_s8(ya + 16));
    acc = vmlaq_n_s32(acc, p, sc[2 * c]);
    p = Isa::dot16(Isa::dot16(vdupq_n_s32(0), hi0, vld1q_s8(ya + 32)), hi1, vld1q_s8(ya + 48));
    acc = vmlaq_n_s32(acc, p, sc[2 * c + 1]);
  }
  int32_t msum = 0;
  for (int j = 0; j < 8; ++j) msum += m[j] * (y.bsums[2 * j] + y.bsums[2 * j + 1]);
  const float d = half_to_float(d16) * y.d;
  const float dmin = half_to_float(dmin16) * y.d;
  return d * static_cast<float>(vaddvq_s32(acc)) - dmin * static_cast<float>(msum);
}

// Decode tile for Q5_K (without its packed layout): four rows (w_stride bytes apart) against one activation
// row, out[r] = dot_q5_k of row r bit for bit. Each activation chunk is loaded once for the four
// rows, the minimums meet the bsum pairs in int16 lanes (|m| <= 63, |pair| <= 4096), and the
// float step runs on the four rows' lanes (the dot's operations per lane).
template <class Isa>
void tile_q5_k_4x1(int64_t n, const void* w, size_t w_stride, const void* a, float* out) {
  const auto* ab = static_cast<const BlockQ8_K*>(a);
  const BlockQ5_K* rows[4];
  for (int i = 0; i < 4; ++i) rows[i] = reinterpret_cast<const BlockQ5_K*>(static_cast<const uint8_t*>(w) + i * w_stride);
  float32x4_t sum = vdupq_n_f32(0.0f);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ8_K& y = ab[b];
    int32_t sc[4][8];
    int16_t mins[8][4];
    for (int i = 0; i < 4; ++i) {
      int32_t m[8];
      unpack_scales_mins_k4(rows[i][b].scales, sc[i], m);
      for (int j = 0; j < 8; ++j) mins[j][i] = static_cast<int16_t>(m[j]);
    }
    int32x4_t acc[4];
    for (int i = 0; i < 4; ++i) acc[i] = vdupq_n_s32(0);
    for (int c = 0; c < 4; ++c) {
      const int8_t* ya = y.qs + 64 * c;
      const int8x16_t a0 = vld1q_s8(ya), a1 = vld1q_s8(ya + 16), a2 = vld1q_s8(ya + 32), a3 = vld1q_s8(ya + 48);
      for (int i = 0; i < 4; ++i) {
        const BlockQ5_K& x = rows[i][b];
        int8x16_t lo0, lo1, hi0, hi1;
        k4_chunk_quants<true>(x.qs, vld1q_u8(x.qh), vld1q_u8(x.qh + 16), c, lo0, lo1, hi0, hi1);
        acc[i] = vmlaq_n_s32(acc[i], Isa::dot16(Isa::dot16(vdupq_n_s32(0), lo0, a0), lo1, a1), sc[i][2 * c]);
        acc[i] = vmlaq_n_s32(acc[i], Isa::dot16(Isa::dot16(vdupq_n_s32(0), hi0, a2), hi1, a3), sc[i][2 * c + 1]);
      }
    }
    const int32x4_t isum = vpaddq_s32(vpaddq_s32(acc[0], acc[1]), vpaddq_s32(acc[2], acc[3]));
    const int16x8_t pairs = vpaddq_s16(vld1q_s16(y.bsums), vld1q_s16(y.bsums + 8));
    int32x4_t msum = vmull_laneq_s16(vld1_s16(mins[0]), pairs, 0);
    msum = vmlal_laneq_s16(msum, vld1_s16(mins[1]), pairs, 1);
    msum = vmlal_laneq_s16(msum, vld1_s16(mins[2]), pairs, 2);
    msum = vmlal_laneq_s16(msum, vld1_s16(mins[3]), pairs, 3);
    msum = vmlal_laneq_s16(msum, vld1_s16(mins[4]), pairs, 4);
    msum = vmlal_laneq_s16(msum, vld1_s16(mins[5]), pairs, 5);
    msum = vmlal_laneq_s16(msum, vld1_s16(mins[6]), pairs, 6);
    msum = vmlal_laneq_s16(msum, vld1_s16(mins[7]), pairs, 7);
    const float32x4_t d = vmulq_n_f32(halves_to_floats(rows[0][b].d, rows[1][b].d, rows[2][b].d, rows[3][b].d), y.d);
    const float32x4_t dmin =
        vmulq_n_f32(halves_to_floats(rows[0][b].dmin, rows[1][b].dmin, rows[2][b].dmin, rows[3][b].dmin), y.d);
    sum = vaddq_f32(sum, vsubq_f32(vmulq_f32(d, vcvtq_f32_s32(isum)), vmulq_f32(dmin, vcvtq_f32_s32(msum))));
  }
  vst1q_f32(out, sum);
}

template <class Isa>
float dot_q4_k(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const BlockQ4_K*>(w);
  const auto* ab = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    sum += dot_k4_block<Isa, false>(wb[b].d, wb[b].dmin, wb[b].scales, wb[b].qs, nullptr, ab[b]);
  }
  return sum;
}

template <class Isa>
float dot_q5_k(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const BlockQ5_K*>(w);
  const auto* ab = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    sum += dot_k4_block<Isa, true>(wb[b].d, wb[b].dmin, wb[b].scales, wb[b].qs, wb[b].qh, ab[b]);
  }
  return sum;
}

template <class Isa>
float dot_q6_k(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const BlockQ6_K*>(w);
  const auto* ab = static_cast<const BlockQ8_K*>(a);
  const uint8x16_t nibble = vdupq_n_u8(0x0f), two_bits = vdupq_n_u8(3);
  const int8x16_t offset = vdupq_n_s8(32);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ6_K& x = wb[b];
    const BlockQ8_K& y = ab[b];
    int32x4_t acc = vdupq_n_s32(0);
    for (int h = 0; h < 2; ++h) {
      // Element 128h + 32s + l (l < 32): a nibble of ql[64h + 32(s % 2) + l] (low for s < 2),
      // and bits 2s..2s+1 of qh[32h + l] as bits 4..5; stored +32.
      const uint8_t* ql = x.ql + 64 * h;
      uint8x16_t qh0 = vld1q_u8(x.qh + 32 * h), qh1 = vld1q_u8(x.qh + 32 * h + 16);
      for (int s = 0; s < 4; ++s) {
        uint8x16_t l0 = vld1q_u8(ql + 32 * (s % 2)), l1 = vld1q_u8(ql + 32 * (s % 2) + 16);
        if (s < 2) {
          l0 = vandq_u8(l0, nibble);
          l1 = vandq_u8(l1, nibble);
        } else {
          l0 = vshrq_n_u8(l0, 4);
          l1 = vshrq_n_u8(l1, 4);
        }
        const int8x16_t u0 = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(l0, vshlq_n_u8(vandq_u8(qh0, two_bits), 4))), offset);
        const int8x16_t u1 = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(l1, vshlq_n_u8(vandq_u8(qh1, two_bits), 4))), offset);
        const int j = 8 * h + 2 * s;
        const int8_t* ya = y.qs + 128 * h + 32 * s;
        acc = scaled_dot16<Isa>(acc, u0, ya, x.scales[j]);
        acc = scaled_dot16<Isa>(acc, u1, ya + 16, x.scales[j + 1]);
        qh0 = vshrq_n_u8(qh0, 2);
        qh1 = vshrq_n_u8(qh1, 2);
      }
    }
    sum += half_to_float(x.d) * y.d * static_cast<float>(vaddvq_s32(acc));
  }
  return sum;
}

}  // namespace
}  // namespace ple::kernels
