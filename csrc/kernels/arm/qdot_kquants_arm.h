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

// A Q2_K super-block's quants (0..3) as 16 runs of 16 elements: run(j, q) gets sub-block j.
// Byte l of qs[32h ..] holds element 128h + 32s + l at bits 2s..2s+1: sub-block 8h + 2s for
// l < 16, the next one for l >= 16.
template <class Run>
inline void q2_k_runs(const BlockQ2_K& x, Run run) {
  const uint8x16_t two_bits = vdupq_n_u8(3);
  for (int h = 0; h < 2; ++h) {
    uint8x16_t q0 = vld1q_u8(x.qs + 32 * h), q1 = vld1q_u8(x.qs + 32 * h + 16);
    for (int s = 0; s < 4; ++s) {
      run(8 * h + 2 * s, vreinterpretq_s8_u8(vandq_u8(q0, two_bits)));
      run(8 * h + 2 * s + 1, vreinterpretq_s8_u8(vandq_u8(q1, two_bits)));
      q0 = vshrq_n_u8(q0, 2);
      q1 = vshrq_n_u8(q1, 2);
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
    q2_k_runs(x, [&](int j, int8x16_t q) { acc = scaled_dot16<Isa>(acc, q, y.qs + 16 * j, x.scales[j] & 0x0f); });
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

// Q3_K's 16 signed six-bit scales (stored +32), as in the reference.
inline void unpack_scales_q3_k(const uint8_t packed[12], int32_t sc[16]) {
  for (int k = 0; k < 16; ++k) {
    const int low = (packed[k % 8] >> (k < 8 ? 0 : 4)) & 0x0f;
    const int high = (packed[8 + k % 4] >> (2 * (k / 4))) & 3;
    sc[k] = (low | (high << 4)) - 32;
  }
}

// A Q3_K super-block's quants (-4..3) as 16 runs of 16 elements, as q2_k_runs: element e = 128h +
// 32s + l takes its two low bits as Q2_K's, minus 4 where bit 4h + s of hmask[l] is clear.
template <class Run>
inline void q3_k_runs(const BlockQ3_K& x, Run run) {
  const uint8x16_t two_bits = vdupq_n_u8(3), four = vdupq_n_u8(4);
  const uint8x16_t hm0 = vld1q_u8(x.hmask), hm1 = vld1q_u8(x.hmask + 16);
  for (int h = 0; h < 2; ++h) {
    uint8x16_t q0 = vld1q_u8(x.qs + 32 * h), q1 = vld1q_u8(x.qs + 32 * h + 16);
    for (int s = 0; s < 4; ++s) {
      const uint8x16_t bit = vdupq_n_u8(static_cast<uint8_t>(1u << (4 * h + s)));
      run(8 * h + 2 * s, vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q0, two_bits)), vreinterpretq_s8_u8(vbicq_u8(four, vtstq_u8(hm0, bit)))));
      run(8 * h + 2 * s + 1,
          vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q1, two_bits)), vreinterpretq_s8_u8(vbicq_u8(four, vtstq_u8(hm1, bit)))));
      q0 = vshrq_n_u8(q0, 2);
      q1 = vshrq_n_u8(q1, 2);
    }
  }
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
    q3_k_runs(x, [&](int j, int8x16_t q) { acc = scaled_dot16<Isa>(acc, q, y.qs + 16 * j, sc[j]); });
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

// Q4_K / Q5_K super-block: chunk c (64 elements) holds elements 64c + l in the low nibbles of
// qs[32c + l] (sub-block 2c) and 64c + 32 + l in the high ones (sub-block 2c + 1). With qh (Q5_K)
// the fifth bit of element e is bit e / 32 of qh[e % 32].
template <class Isa>
float dot_k4_block(uint16_t d16, uint16_t dmin16, const uint8_t scales[kKScaleBytes], const uint8_t* qs,
                   const uint8_t* qh, const BlockQ8_K& y) {
  int32_t sc[8], m[8];
  unpack_scales_mins_k4(scales, sc, m);
  const uint8x16_t nibble = vdupq_n_u8(0x0f), v10 = vdupq_n_u8(0x10);
  uint8x16_t qh0 = vdupq_n_u8(0), qh1 = vdupq_n_u8(0);
  if (qh != nullptr) {
    qh0 = vld1q_u8(qh);
    qh1 = vld1q_u8(qh + 16);
  }
  int32x4_t acc = vdupq_n_s32(0);
  for (int c = 0; c < 4; ++c) {
    const uint8x16_t q0 = vld1q_u8(qs + 32 * c), q1 = vld1q_u8(qs + 32 * c + 16);
    uint8x16_t lo0 = vandq_u8(q0, nibble), lo1 = vandq_u8(q1, nibble);
    uint8x16_t hi0 = vshrq_n_u8(q0, 4), hi1 = vshrq_n_u8(q1, 4);
    if (qh != nullptr) {
      const uint8x16_t bit_lo = vdupq_n_u8(static_cast<uint8_t>(1u << (2 * c)));
      const uint8x16_t bit_hi = vdupq_n_u8(static_cast<uint8_t>(2u << (2 * c)));
      lo0 = vorrq_u8(lo0, vandq_u8(vtstq_u8(qh0, bit_lo), v10));
      lo1 = vorrq_u8(lo1, vandq_u8(vtstq_u8(qh1, bit_lo), v10));
      hi0 = vorrq_u8(hi0, vandq_u8(vtstq_u8(qh0, bit_hi), v10));
      hi1 = vorrq_u8(hi1, vandq_u8(vtstq_u8(qh1, bit_hi), v10));
    }
    const int8_t* ya = y.qs + 64 * c;
    int32x4_t p = Isa::dot16(Isa::dot16(vdupq_n_s32(0), vreinterpretq_s8_u8(lo0), vld1q_s8(ya)),
                             vreinterpretq_s8_u8(lo1), vld1q_s8(ya + 16));
    acc = vmlaq_n_s32(acc, p, sc[2 * c]);
    p = Isa::dot16(Isa::dot16(vdupq_n_s32(0), vreinterpretq_s8_u8(hi0), vld1q_s8(ya + 32)),
                   vreinterpretq_s8_u8(hi1), vld1q_s8(ya + 48));
    acc = vmlaq_n_s32(acc, p, sc[2 * c + 1]);
  }
  int32_t msum = 0;
  for (int j = 0; j < 8; ++j) msum += m[j] * (y.bsums[2 * j] + y.bsums[2 * j + 1]);
  const float d = half_to_float(d16) * y.d;
  const float dmin = half_to_float(dmin16) * y.d;
  return d * static_cast<float>(vaddvq_s32(acc)) - dmin * static_cast<float>(msum);
}

template <class Isa>
float dot_q4_k(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const BlockQ4_K*>(w);
  const auto* ab = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) sum += dot_k4_block<Isa>(wb[b].d, wb[b].dmin, wb[b].scales, wb[b].qs, nullptr, ab[b]);
  return sum;
}

template <class Isa>
float dot_q5_k(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const BlockQ5_K*>(w);
  const auto* ab = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) sum += dot_k4_block<Isa>(wb[b].d, wb[b].dmin, wb[b].scales, wb[b].qs, wb[b].qh, ab[b]);
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
