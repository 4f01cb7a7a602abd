// Decode GEMVs over rows packed once at load time (kernel_table.h, PackedKernels) for Q4_0, Q4_1,
// Q8_0, Q4_K, Q5_K and Q6_K, 8 rows per group, as templates over the tier (kDotprod: sdot by lane;
// otherwise NEON widening multiplies). Layouts and the four-row dot: qpacked_core_arm.h. Each
// activation block is prepared once per pass and serves the pass's two groups (four spilled their
// accumulators). Included only by qgemv_packed_neon.cpp and qgemv_packed_dotprod.cpp; internal
// linkage.
#pragma once
#include <type_traits>
#include <utility>

#include "kernels/arm/qdot_kquants_arm.h"
#include "kernels/arm/qpacked_core_arm.h"

namespace ple::kernels {
namespace {

// Each format: its group's bytes per block column, its activation block type, and `step`, which
// adds one block column of one group to the group's two accumulators (rows 0..3, 4..7).
template <bool kDotprod>
struct Q4_0x8 {
  using Activation = BlockQ8_0;
  static constexpr int kBlockElems = kQK;
  static constexpr size_t kGroupBytes = kQ40GroupBytes;
  struct Prepared {
    ActivationBlock<kDotprod> q;
    float d;
    explicit Prepared(const BlockQ8_0& a) : q(a.qs), d(half_to_float(a.d)) {}
  };
  static void step(const uint8_t* p, const Prepared& a, float32x4_t acc[2]) {
    float32x4_t dw[2];
    load_scales8(p, dw[0], dw[1]);
    for (int h = 0; h < 2; ++h) {
      int8x16_t v[8];
      if constexpr (kDotprod) {
        offset_nibble_half_quants_x16(p + 16 + 64 * h, v);
        acc[h] = accumulate_x16(acc[h], dw[h], a.d, rows4_dot<kDotprod, false>(v, a.q));
      } else {
        offset_nibble_half_quants(p + 16 + 64 * h, v);
        acc[h] = accumulate(acc[h], dw[h], a.d, rows4_dot<kDotprod, true>(v, a.q));
      }
    }
  }
};

template <bool kDotprod>
struct Q4_1x8 {
  using Activation = BlockQ8_1;
  static constexpr int kBlockElems = kQK;
  static constexpr size_t kGroupBytes = kQ41GroupBytes;
  struct Prepared {
    ActivationBlock<kDotprod> q;
    float d, s;
    explicit Prepared(const BlockQ8_1& a) : q(a.qs), d(half_to_float(a.d)), s(half_to_float(a.s)) {}
  };
  static void step(const uint8_t* p, const Prepared& a, float32x4_t acc[2]) {
    float32x4_t dw[2], m[2];
    load_scales8(p, dw[0], dw[1]);
    load_scales8(p + 16, m[0], m[1]);
    for (int h = 0; h < 2; ++h) {
      int8x16_t v[8];
      nibble_half_quants(p + 32 + 64 * h, v);
      acc[h] = accumulate_min(acc[h], dw[h], a.d, rows4_dot<kDotprod, true>(v, a.q), m[h], a.s);
    }
  }
};

template <bool kDotprod>
struct Q8_0x8 {
  using Activation = BlockQ8_0;
  static constexpr int kBlockElems = kQK;
  static constexpr size_t kGroupBytes = kQ80GroupBytes;
  struct Prepared {
    ActivationBlock<kDotprod> q;
    float d;
    explicit Prepared(const BlockQ8_0& a) : q(a.qs), d(half_to_float(a.d)) {}
  };
  static void step(const uint8_t* p, const Prepared& a, float32x4_t acc[2]) {
    float32x4_t dw[2];
    load_scales8(p, dw[0], dw[1]);
    for (int h = 0; h < 2; ++h) {
      int8x16_t v[8];
      int8_half_quants(reinterpret_cast<const int8_t*>(p + 16 + 128 * h), v);
      acc[h] = accumulate(acc[h], dw[h], a.d, rows4_dot<kDotprod, false>(v, a.q));
    }
  }
};

// Q4_K, 8 rows per super-block column (1184 bytes: the rows' 1152 plus their scales unpacked):
//   uint16 d[8], dmin[8]; uint8 sc[8][8], m[8][8] (sub-block j, row r); then per half h (rows
//   4h..4h+3) 32 vectors k: row 4h+i's qs[4k..4k+3] at 16k + 4i. Vector 8c + j's low nibbles are
//   elements 64c + 4j..+3 (sub-block 2c), its high nibbles 64c + 32 + 4j..+3 (sub-block 2c + 1).
// Per row the integer sums are the reference's: sum_j sc_j * dot_j and sum_j m_j * (bsums of j);
// then d * isum - dmin * msum in float, with d = d_w * d_a and dmin = dmin_w * d_a.
constexpr size_t kQ4KGroupBytes = 160 + kGroupRows * kQK_K / 2;  // 1184

// The group column of 8 rows of Q4_K, or of Q5_K's shared part (its scales, minimums and nibbles).
template <class Block>
void pack_k4_block(const Block* const x[kGroupRows], uint8_t* out) {
  for (int r = 0; r < kGroupRows; ++r) {
    std::memcpy(out + 2 * r, &x[r]->d, 2);
    std::memcpy(out + 16 + 2 * r, &x[r]->dmin, 2);
    int32_t sc[8], m[8];
    unpack_scales_mins_k4(x[r]->scales, sc, m);
    for (int j = 0; j < 8; ++j) {
      out[32 + 8 * j + r] = static_cast<uint8_t>(sc[j]);
      out[96 + 8 * j + r] = static_cast<uint8_t>(m[j]);
    }
  }
  for (int h = 0; h < 2; ++h) {
    const uint8_t* qs[4] = {x[4 * h]->qs, x[4 * h + 1]->qs, x[4 * h + 2]->qs, x[4 * h + 3]->qs};
    interleave_words(qs, 32, out + 160 + 512 * h);
  }
}

inline void pack_q4_k_block(const uint8_t* rows, size_t w_stride, int64_t b, uint8_t* out) {
  const BlockQ4_K* x[kGroupRows];
  for (int r = 0; r < kGroupRows; ++r) x[r] = reinterpret_cast<const BlockQ4_K*>(rows + static_cast<size_t>(r) * w_stride) + b;
  pack_k4_block(x, out);
}

// Q5_K, 8 rows per super-block column (1440 bytes: the rows' 1408 plus their scales unpacked):
// Q4_K's column of the scales, minimums and nibbles, then per half h eight vectors k of
// fifth-bit words (row 4h+i's qh[4k..4k+3] at 16k + 4i). Element 32s + 4k + e of a row takes its
// fifth bit from bit s of qh[4k + e]: the low nibbles of Q4_K vector 8c + k (sub-block 2c) take
// bit 2c of fifth-bit vector k, the high nibbles (sub-block 2c + 1) bit 2c + 1.
constexpr size_t kQ5KGroupBytes = kQ4KGroupBytes + 2 * 128;  // 1440

inline void pack_q5_k_block(const uint8_t* rows, size_t w_stride, int64_t b, uint8_t* out) {
  const BlockQ5_K* x[kGroupRows];
  for (int r = 0; r < kGroupRows; ++r) x[r] = reinterpret_cast<const BlockQ5_K*>(rows + static_cast<size_t>(r) * w_stride) + b;
  pack_k4_block(x, out);
  for (int h = 0; h < 2; ++h) {
    const uint8_t* qh[4] = {x[4 * h]->qh, x[4 * h + 1]->qh, x[4 * h + 2]->qh, x[4 * h + 3]->qh};
    interleave_words(qh, 8, out + kQ4KGroupBytes + 128 * h);
  }
}

// Rows 4h..4h+3 of eight byte-sized values per row (uint8 v[8]) as int32 lanes.
inline int32x4_t widen_half(uint8x8_t v, int h) {
  const uint16x8_t w = vmovl_u8(v);
  return vreinterpretq_s32_u32(h == 0 ? vmovl_u16(vget_low_u16(w)) : vmovl_high_u16(w));
}

// Q4_K and Q5_K (kFifth): the same step, Q5_K's quants taking their fifth bits (0..31, which
// NEON's int16 sums allow, rows4_dot).
template <bool kDotprod, bool kFifth>
struct K4x8 {
  using Activation = BlockQ8_K;
  static constexpr int kBlockElems = kQK_K;
  static constexpr size_t kGroupBytes = kFifth ? kQ5KGroupBytes : kQ4KGroupBytes;
  struct Prepared {
    const BlockQ8_K& a;
    int16x8_t bsums_lo, bsums_hi;
    explicit Prepared(const BlockQ8_K& y) : a(y), bsums_lo(vld1q_s16(y.bsums)), bsums_hi(vld1q_s16(y.bsums + 8)) {}
  };
  // Rows 4h..4h+3: sum over the 8 sub-blocks of m_j * (bsums[2j] + bsums[2j + 1]), exact in int32.
  static int32x4_t min_sums(const uint8_t* m, const Prepared& a, int h) {
    int16x4_t mj[8];
    for (int j = 0; j < 8; ++j) {
      const int16x8_t w = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(m + 8 * j)));
      mj[j] = h == 0 ? vget_low_s16(w) : vget_high_s16(w);
    }
    int32x4_t s = vmull_laneq_s16(mj[0], a.bsums_lo, 0);
    s = vmlal_laneq_s16(s, mj[0], a.bsums_lo, 1);
    s = vmlal_laneq_s16(s, mj[1], a.bsums_lo, 2);
    s = vmlal_laneq_s16(s, mj[1], a.bsums_lo, 3);
    s = vmlal_laneq_s16(s, mj[2], a.bsums_lo, 4);
    s = vmlal_laneq_s16(s, mj[2], a.bsums_lo, 5);
    s = vmlal_laneq_s16(s, mj[3], a.bsums_lo, 6);
    s = vmlal_laneq_s16(s, mj[3], a.bsums_lo, 7);
    s = vmlal_laneq_s16(s, mj[4], a.bsums_hi, 0);
    s = vmlal_laneq_s16(s, mj[4], a.bsums_hi, 1);
    s = vmlal_laneq_s16(s, mj[5], a.bsums_hi, 2);
    s = vmlal_laneq_s16(s, mj[5], a.bsums_hi, 3);
    s = vmlal_laneq_s16(s, mj[6], a.bsums_hi, 4);
    s = vmlal_laneq_s16(s, mj[6], a.bsums_hi, 5);
    s = vmlal_laneq_s16(s, mj[7], a.bsums_hi, 6);
    return vmlal_laneq_s16(s, mj[7], a.bsums_hi, 7);
  }
  static void step(const uint8_t* p, const Prepared& a, float32x4_t acc[2]) {
    float32x4_t dw[2], dminw[2];
    load_scales8(p, dw[0], dw[1]);
    load_scales8(p + 16, dminw[0], dminw[1]);
    const uint8_t* sc = p + 32;
    for (int h = 0; h < 2; ++h) {
      const uint8_t* q = p + 160 + 512 * h;
      int32x4_t isum = vdupq_n_s32(0);
      for (int c = 0; c < 4; ++c) {
        if constexpr (kFifth) {
          // Four nibble vectors and their fifth bits at a time (all sixteen quant vectors at once
          // spill): low nibbles against sub-block 2c's activations, high ones against 2c + 1's.
          const ActivationBlock<kDotprod> a_lo(a.a.qs + 64 * c), a_hi(a.a.qs + 64 * c + 32);
          const uint8_t* fifth = p + kQ4KGroupBytes + 128 * h;
          const int8x16_t to_bit0 = fifth_bit_shift_low(c), to_bit4 = fifth_bit_shift_high(c);
          int32x4_t low_sum = vdupq_n_s32(0), high_sum = vdupq_n_s32(0);
          const auto quarter = [&](auto part) {
            const uint8x16x4_t raw = vld1q_u8_x4(q + 128 * c + 64 * part), bits = vld1q_u8_x4(fifth + 64 * part);
            int8x16_t v_lo[4], v_hi[4];
            for (int k = 0; k < 4; ++k) {
              v_lo[k] = vreinterpretq_s8_u8(five_bit_low(raw.val[k], bits.val[k], to_bit0));
              v_hi[k] = vreinterpretq_s8_u8(five_bit_high(raw.val[k], bits.val[k], to_bit4));
            }
            low_sum = vaddq_s32(low_sum, rows4_dot_half<kDotprod, decltype(part)::value>(v_lo, a_lo));
            high_sum = vaddq_s32(high_sum, rows4_dot_half<kDotprod, decltype(part)::value>(v_hi, a_hi));
          };
          quarter(std::integral_constant<int, 0>());
          quarter(std::integral_constant<int, 1>());
          isum = vmlaq_s32(isum, low_sum, widen_half(vld1_u8(sc + 16 * c), h));
          isum = vmlaq_s32(isum, high_sum, widen_half(vld1_u8(sc + 16 * c + 8), h));
        } else {
          const uint8x16x4_t raw0 = vld1q_u8_x4(q + 128 * c), raw1 = vld1q_u8_x4(q + 128 * c + 64);
          int8x16_t lo[8], hi[8];
          for (int k = 0; k < 4; ++k) {
            split_nibbles(raw0.val[k], lo[k], hi[k]);
            split_nibbles(raw1.val[k], lo[4 + k], hi[4 + k]);
          }
          const ActivationBlock<kDotprod> a_lo(a.a.qs + 64 * c), a_hi(a.a.qs + 64 * c + 32);
          isum = vmlaq_s32(isum, rows4_dot<kDotprod, true>(lo, a_lo), widen_half(vld1_u8(sc + 16 * c), h));
          isum = vmlaq_s32(isum, rows4_dot<kDotprod, true>(hi, a_hi), widen_half(vld1_u8(sc + 16 * c + 8), h));
        }
      }
      const int32x4_t msum = min_sums(p + 96, a, h);
      const float32x4_t d = vmulq_n_f32(dw[h], a.a.d), dmin = vmulq_n_f32(dminw[h], a.a.d);
      acc[h] = vaddq_f32(acc[h], vsubq_f32(vmulq_f32(d, vcvtq_f32_s32(isum)), vmulq_f32(dmin, vcvtq_f32_s32(msum))));
    }
  }
};

template <bool kDotprod>
using Q4_Kx8 = K4x8<kDotprod, false>;
template <bool kDotprod>
using Q5_Kx8 = K4x8<kDotprod, true>;

// Q6_K, 8 rows per super-block column (1680 bytes, the rows' own): uint16 d[8]; int8 sc[16][8]
// (sub-block j, row r); then per half h (rows 4h..4h+3) 768 bytes: 32 vectors of ql words, then
// 16 vectors of qh words (row 4h+i's ql[4k..4k+3] / qh[4k..4k+3] at 16k + 4i). Element
// 128u + 32s + 4w + e (u < 2, s < 4, w < 8, e < 4) of row i takes its low nibble from ql vector
// 16u + 8(s % 2) + w (high nibble for s >= 2) and its bits 4..5 from bits 2s..2s+1 of qh vector
// 8u + w. The quants are stored + 32: the reference's sum_j sc_j * dot16(q - 32, a) is computed
// as sum_j sc_j * dot16(q, a) - 32 * sum_j sc_j * bsums_j (Q8_K's bsums are its quants' sums), so
// no lane needs the subtraction; both sums are exact in int32.
constexpr size_t kQ6KGroupBytes = kGroupRows * sizeof(BlockQ6_K);  // 1680

inline void pack_q6_k_block(const uint8_t* rows, size_t w_stride, int64_t b, uint8_t* out) {
  const BlockQ6_K* x[kGroupRows];
  for (int r = 0; r < kGroupRows; ++r) x[r] = reinterpret_cast<const BlockQ6_K*>(rows + static_cast<size_t>(r) * w_stride) + b;
  for (int r = 0; r < kGroupRows; ++r) {
    std::memcpy(out + 2 * r, &x[r]->d, 2);
    for (int j = 0; j < 16; ++j) std::memcpy(out + 16 + 8 * j + r, &x[r]->scales[j], 1);
  }
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql[4] = {x[4 * h]->ql, x[4 * h + 1]->ql, x[4 * h + 2]->ql, x[4 * h + 3]->ql};
    const uint8_t* qh[4] = {x[4 * h]->qh, x[4 * h + 1]->qh, x[4 * h + 2]->qh, x[4 * h + 3]->qh};
    interleave_words(ql, 32, out + 144 + 768 * h);
    interleave_words(qh, 16, out + 144 + 768 * h + 512);
  }
}

// Eight int8 values per row (sub-block j of 8 rows) -> rows 4h..4h+3 as int16 / int32 lanes.
inline int16x4_t scales_half16(const uint8_t* sc, int h) {
  const int16x8_t w = vmovl_s8(vld1_s8(reinterpret_cast<const int8_t*>(sc)));
  return h == 0 ? vget_low_s16(w) : vget_high_s16(w);
}

template <bool kDotprod>
struct Q6_Kx8 {
  using Activation = BlockQ8_K;
  static constexpr int kBlockElems = kQK_K;
  static constexpr size_t kGroupBytes = kQ6KGroupBytes;
  struct Prepared {
    const BlockQ8_K& a;
    int16x8_t bsums_lo, bsums_hi;
    explicit Prepared(const BlockQ8_K& y) : a(y), bsums_lo(vld1q_s16(y.bsums)), bsums_hi(vld1q_s16(y.bsums + 8)) {}
  };
  // Rows 4h..4h+3: sum_j sc_j * bsums_j over the 16 sub-blocks.
  static int32x4_t scaled_bsums(const uint8_t* sc, const Prepared& a, int h) {
    int32x4_t s = vmull_laneq_s16(scales_half16(sc, h), a.bsums_lo, 0);
    s = vmlal_laneq_s16(s, scales_half16(sc + 8, h), a.bsums_lo, 1);
    s = vmlal_laneq_s16(s, scales_half16(sc + 16, h), a.bsums_lo, 2);
    s = vmlal_laneq_s16(s, scales_half16(sc + 24, h), a.bsums_lo, 3);
    s = vmlal_laneq_s16(s, scales_half16(sc + 32, h), a.bsums_lo, 4);
    s = vmlal_laneq_s16(s, scales_half16(sc + 40, h), a.bsums_lo, 5);
    s = vmlal_laneq_s16(s, scales_half16(sc + 48, h), a.bsums_lo, 6);
    s = vmlal_laneq_s16(s, scales_half16(sc + 56, h), a.bsums_lo, 7);
    s = vmlal_laneq_s16(s, scales_half16(sc + 64, h), a.bsums_hi, 0);
    s = vmlal_laneq_s16(s, scales_half16(sc + 72, h), a.bsums_hi, 1);
    s = vmlal_laneq_s16(s, scales_half16(sc + 80, h), a.bsums_hi, 2);
    s = vmlal_laneq_s16(s, scales_half16(sc + 88, h), a.bsums_hi, 3);
    s = vmlal_laneq_s16(s, scales_half16(sc + 96, h), a.bsums_hi, 4);
    s = vmlal_laneq_s16(s, scales_half16(sc + 104, h), a.bsums_hi, 5);
    s = vmlal_laneq_s16(s, scales_half16(sc + 112, h), a.bsums_hi, 6);
    return vmlal_laneq_s16(s, scales_half16(sc + 120, h), a.bsums_hi, 7);
  }
  // The 6-bit quants (0..63) of element vectors w < 8 for step s < 2 (the low nibbles of ql) and
  // step s + 2 (the high nibbles), given bits = qh >> 2s: `sli` puts bits 0..1 above the low
  // nibble and keeps that nibble, `sri` puts the high nibble under bits 4..5, so each vector takes
  // two instructions.
  static void low_step_quants(const uint8x16_t ql[8], const uint8x16_t bits[8], int8x16_t v[8]) {
    for (int w = 0; w < 8; ++w) v[w] = vreinterpretq_s8_u8(vsliq_n_u8(ql[w], vandq_u8(bits[w], vdupq_n_u8(0x03)), 4));
  }
  static void high_step_quants(const uint8x16_t ql[8], const uint8x16_t bits[8], int8x16_t v[8]) {
    for (int w = 0; w < 8; ++w) v[w] = vreinterpretq_s8_u8(vsriq_n_u8(vandq_u8(bits[w], vdupq_n_u8(0x30)), ql[w], 4));
  }
  // isum + sc_j * dot(sub-block j) + sc_{j+1} * dot(sub-block j + 1) for the 32 elements of v.
  static int32x4_t two_sub_blocks(int32x4_t isum, const int8x16_t v[8], const int8_t* a, const uint8_t* sc, int j, int h) {
    const ActivationBlock<kDotprod> act(a);
    int32x4_t first, second;
    rows4_dot_16s<kDotprod>(v, act, first, second);
    isum = vmlaq_s32(isum, first, vmovl_s16(scales_half16(sc + 8 * j, h)));
    return vmlaq_s32(isum, second, vmovl_s16(scales_half16(sc + 8 * (j + 1), h)));
  }
  static void step(const uint8_t* p, const Prepared& a, float32x4_t acc[2]) {
    float32x4_t dw[2];
    load_scales8(p, dw[0], dw[1]);
    const uint8_t* sc = p + 16;
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql_base = p + 144 + 768 * h;
      const uint8_t* qh_base = ql_base + 512;
      int32x4_t isum = vdupq_n_s32(0);
      for (int u = 0; u < 2; ++u) {
        const uint8x16x4_t h0 = vld1q_u8_x4(qh_base + 128 * u), h1 = vld1q_u8_x4(qh_base + 128 * u + 64);
        uint8x16_t bits[8] = {h0.val[0], h0.val[1], h0.val[2], h0.val[3], h1.val[0], h1.val[1], h1.val[2], h1.val[3]};
        const int8_t* ya = a.a.qs + 128 * u;
        for (int half = 0; half < 2; ++half) {  // ql vectors 16u + 8 half + w serve steps half and half + 2
          const uint8x16x4_t l0 = vld1q_u8_x4(ql_base + 256 * u + 128 * half), l1 = vld1q_u8_x4(ql_base + 256 * u + 128 * half + 64);
          const uint8x16_t ql[8] = {l0.val[0], l0.val[1], l0.val[2], l0.val[3], l1.val[0], l1.val[1], l1.val[2], l1.val[3]};
          if (half == 1) {
            for (int w = 0; w < 8; ++w) bits[w] = vshrq_n_u8(bits[w], 2);
          }
          int8x16_t v[8];
          low_step_quants(ql, bits, v);
          isum = two_sub_blocks(isum, v, ya + 32 * half, sc, 8 * u + 2 * half, h);
          high_step_quants(ql, bits, v);
          isum = two_sub_blocks(isum, v, ya + 64 + 32 * half, sc, 8 * u + 4 + 2 * half, h);
        }
      }
      isum = vsubq_s32(isum, vshlq_n_s32(scaled_bsums(sc, a, h), 5));
      acc[h] = accumulate(acc[h], dw[h], a.a.d, isum);
    }
  }
};

// One pass over the groups kG... (consecutive, group_bytes apart) with every block column's
// activation prepared once; the groups are spelled out at compile time so that their
// accumulators stay in registers.
template <class Format, int... kG>
void run_pass(int64_t nb, const uint8_t* p, size_t group_bytes, const typename Format::Activation* act, float* out,
              std::integer_sequence<int, kG...>) {
  constexpr int kGroups = sizeof...(kG);
  float32x4_t acc[kGroups][2];
  for (int g = 0; g < kGroups; ++g) acc[g][0] = acc[g][1] = vdupq_n_f32(0.0f);
  for (int64_t b = 0; b < nb; ++b, p += Format::kGroupBytes) {
    const typename Format::Prepared prepared(act[b]);
    (Format::step(p + kG * group_bytes, prepared, acc[kG]), ...);
  }
  for (int g = 0; g < kGroups; ++g) {
    vst1q_f32(out + g * kGroupRows, acc[g][0]);
    vst1q_f32(out + g * kGroupRows + 4, acc[g][1]);
  }
}

// out[g * 8 + r] = dot(row 8g + r, a) for n_groups consecutive groups.
template <class Format>
void gemv_groups(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  const int64_t nb = n / Format::kBlockElems;
  const size_t group_bytes = static_cast<size_t>(nb) * Format::kGroupBytes;
  const auto* act = static_cast<const typename Format::Activation*>(a);
  const auto pass = [&](int64_t first, auto groups_in_pass) {
    const uint8_t* p = static_cast<const uint8_t*>(groups) + static_cast<size_t>(first) * group_bytes;
    run_pass<Format>(nb, p, group_bytes, act, out + first * kGroupRows, groups_in_pass);
  };
  int64_t g = 0;
  for (; g + 2 <= n_groups; g += 2) pass(g, std::make_integer_sequence<int, 2>());
  for (; g < n_groups; ++g) pass(g, std::make_integer_sequence<int, 1>());
}

}  // namespace
}  // namespace ple::kernels
