// Internals of the AArch64 packed-row kernels (qgemv_packed_arm.h: decode GEMVs over rows packed
// at load time; qpanel_arm.h: prefill panels): the layouts, the activation block as both tiers
// use it, and the integer dot of four rows against one activation block.
//
// Every layout interleaves four rows in 4-byte words: a 16-byte vector holds bytes 4k..4k+3 of
// rows 0, 1, 2 and 3 in turn. So one `sdot v.4s, w.16b, a.4b[k]` (dotprod) multiplies four
// quants of each of the four rows by the same four activation quants and leaves each row's sum in
// its own int32 lane: four rows need no horizontal reduction at all. Plain NEON (Pi 4) gets the
// same effect with widening multiplies against activation words broadcast to every lane.
//
// Groups are 8 rows (two such halves), like x86's, and hold exactly the bytes of the rows' blocks:
//   Q4_1x8 (160 bytes per block column): uint16 d[8], m[8]; then per half h (rows 4h..4h+3) four
//     vectors k: row 4h+i's qs[4k..4k+3] at 16k + 4i. Low nibbles are elements 4k..4k+3, high
//     nibbles 16+4k..16+4k+3: a mask and a shift give the lane words for the two activation halves.
//   Q4_0x8 (144 bytes): uint16 d[8]; the quants as Q4_1x8's, each byte XOR 0x88. Then a nibble
//     read as a signed 4-bit number is q - 8: `shl #4` and `and #0xf0` give 16 * (q - 8) of both
//     halves with no offset to subtract, and the conversion to float divides the sum by 16 for free
//     (scvtf with 4 fraction bits; the sum is exact, below 2^24).
//   Q8_0x8 (272 bytes): uint16 d[8]; then per half eight vectors j: row 4h+i's qs[4j..4j+3].
// The prefill panel (one group, unpacked for the token loop) holds float d[8] (and m[8] for
// Q4_1) and the int8 quants of both halves in Q8_0x8's order (Q4_0: nibble - 8; Q4_1: nibble).
//
// The integer sums are exact and the float part repeats the __ref twin's operations in its order
// per block, per row, so every output equals the one-row dot bit for bit. Internal linkage: each
// ISA file compiles its own copy with its own flags.
#pragma once
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/arm/neon_helpers.h"
#include "quant/blocks.h"

namespace ple::kernels {
namespace {

constexpr int kGroupRows = 8;
constexpr size_t kQ40GroupBytes = kGroupRows * sizeof(BlockQ4_0);  // 144
constexpr size_t kQ41GroupBytes = kGroupRows * sizeof(BlockQ4_1);  // 160
constexpr size_t kQ80GroupBytes = kGroupRows * sizeof(BlockQ8_0);  // 272
constexpr size_t kPanelQuantBytes = kGroupRows * kQK;              // 256
constexpr size_t kPanelBlockBytes = kGroupRows * sizeof(float) + kPanelQuantBytes;         // Q4_0, Q8_0: 288
constexpr size_t kPanelMinBlockBytes = 2 * kGroupRows * sizeof(float) + kPanelQuantBytes;  // Q4_1: 320

// out[16k + 4i + b] = rows[i][4k + b] for k < words: four rows' bytes interleaved in 4-byte words.
inline void interleave_words(const uint8_t* const rows[4], int words, uint8_t* out) {
  for (int k = 0; k < words; ++k) {
    for (int i = 0; i < 4; ++i) std::memcpy(out + 16 * k + 4 * i, rows[i] + 4 * k, 4);
  }
}

// The same for four rows of int8 quants already unpacked (`elements`, a multiple of 16): a 4x4
// transpose of 32-bit words per 16 elements, vector k of `out` holding elements 4k..4k+3.
inline void interleave_rows4(const int8_t* const rows[4], int elements, int8_t* out) {
  for (int e = 0; e < elements; e += 16, out += 64) {
    const uint32x4_t r0 = vreinterpretq_u32_s8(vld1q_s8(rows[0] + e)), r1 = vreinterpretq_u32_s8(vld1q_s8(rows[1] + e));
    const uint32x4_t r2 = vreinterpretq_u32_s8(vld1q_s8(rows[2] + e)), r3 = vreinterpretq_u32_s8(vld1q_s8(rows[3] + e));
    const uint64x2_t even01 = vreinterpretq_u64_u32(vtrn1q_u32(r0, r1)), odd01 = vreinterpretq_u64_u32(vtrn2q_u32(r0, r1));
    const uint64x2_t even23 = vreinterpretq_u64_u32(vtrn1q_u32(r2, r3)), odd23 = vreinterpretq_u64_u32(vtrn2q_u32(r2, r3));
    vst1q_s8(out, vreinterpretq_s8_u64(vtrn1q_u64(even01, even23)));
    vst1q_s8(out + 16, vreinterpretq_s8_u64(vtrn1q_u64(odd01, odd23)));
    vst1q_s8(out + 32, vreinterpretq_s8_u64(vtrn2q_u64(even01, even23)));
    vst1q_s8(out + 48, vreinterpretq_s8_u64(vtrn2q_u64(odd01, odd23)));
  }
}

// One block column of 8 rows (w_stride bytes apart, block b) into a nibble group: the rows'
// scales (and minimums), then both halves' interleaved quants (Q4_0: XOR 0x88).
template <class Block, bool kMin>
void pack_nibble_block(const uint8_t* rows, size_t w_stride, int64_t b, uint8_t* out) {
  const Block* x[kGroupRows];
  for (int r = 0; r < kGroupRows; ++r) x[r] = reinterpret_cast<const Block*>(rows + static_cast<size_t>(r) * w_stride) + b;
  for (int r = 0; r < kGroupRows; ++r) std::memcpy(out + 2 * r, &x[r]->d, 2);
  uint8_t* q = out + 16;
  if constexpr (kMin) {
    for (int r = 0; r < kGroupRows; ++r) std::memcpy(out + 16 + 2 * r, &x[r]->m, 2);
    q += 16;
  }
  for (int h = 0; h < 2; ++h) {
    const uint8_t* qs[4] = {x[4 * h]->qs, x[4 * h + 1]->qs, x[4 * h + 2]->qs, x[4 * h + 3]->qs};
    interleave_words(qs, 4, q + 64 * h);
  }
  if constexpr (!kMin) {
    for (int i = 0; i < 128; ++i) q[i] ^= 0x88;
  }
}

inline void pack_q8_0_block(const uint8_t* rows, size_t w_stride, int64_t b, uint8_t* out) {
  const BlockQ8_0* x[kGroupRows];
  for (int r = 0; r < kGroupRows; ++r) x[r] = reinterpret_cast<const BlockQ8_0*>(rows + static_cast<size_t>(r) * w_stride) + b;
  for (int r = 0; r < kGroupRows; ++r) std::memcpy(out + 2 * r, &x[r]->d, 2);
  for (int h = 0; h < 2; ++h) {
    const uint8_t* qs[4];
    for (int i = 0; i < 4; ++i) qs[i] = reinterpret_cast<const uint8_t*>(x[4 * h + i]->qs);
    interleave_words(qs, 8, out + 16 + 128 * h);
  }
}

// Eight fp16 scales -> two float32x4 (rows 0..3, 4..7).
inline void load_scales8(const uint8_t* p, float32x4_t& lo, float32x4_t& hi) {
  const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(reinterpret_cast<const uint16_t*>(p)));
  lo = vcvt_f32_f16(vget_low_f16(h));
  hi = vcvt_high_f32_f16(h);
}
// The same eight scales stored as floats (a panel's scale column).
inline void store_scales8_as_floats(const uint8_t* halves, uint8_t* out) {
  float32x4_t lo, hi;
  load_scales8(halves, lo, hi);
  vst1q_f32(reinterpret_cast<float*>(out), lo);
  vst1q_f32(reinterpret_cast<float*>(out) + 4, hi);
}

// The 16 interleaved nibble bytes of one vector -> elements 4k..4k+3 (lo) and 16+4k.. (hi) of
// four rows, as int8 0..15.
inline void split_nibbles(uint8x16_t v, int8x16_t& lo, int8x16_t& hi) {
  lo = vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0x0f)));
  hi = vreinterpretq_s8_u8(vshrq_n_u8(v, 4));
}

// Four rows' eight interleaved vectors of one block (v[j]: elements 4j..4j+3) from a nibble half.
inline void nibble_half_quants(const uint8_t* q, int8x16_t v[8]) {
  const uint8x16x4_t raw = vld1q_u8_x4(q);
  for (int k = 0; k < 4; ++k) split_nibbles(raw.val[k], v[k], v[4 + k]);
}
// The same from a Q4_0x8 half (nibbles XOR 8): 16 * (q - 8), for sdot and a conversion by 1/16.
inline void offset_nibble_half_quants_x16(const uint8_t* q, int8x16_t v[8]) {
  const int8x16x4_t raw = vld1q_s8_x4(reinterpret_cast<const int8_t*>(q));
  for (int k = 0; k < 4; ++k) {
    v[k] = vshlq_n_s8(raw.val[k], 4);
    v[4 + k] = vandq_s8(raw.val[k], vdupq_n_s8(static_cast<int8_t>(0xf0)));
  }
}
// The same as q - 8 itself (|q - 8| <= 8, for NEON's int16 sums): sign-extending shifts.
inline void offset_nibble_half_quants(const uint8_t* q, int8x16_t v[8]) {
  const int8x16x4_t raw = vld1q_s8_x4(reinterpret_cast<const int8_t*>(q));
  for (int k = 0; k < 4; ++k) {
    v[k] = vshrq_n_s8(vshlq_n_s8(raw.val[k], 4), 4);
    v[4 + k] = vshrq_n_s8(raw.val[k], 4);
  }
}
inline void int8_half_quants(const int8_t* q, int8x16_t v[8]) {
  const int8x16x4_t a = vld1q_s8_x4(q), b = vld1q_s8_x4(q + 64);
  for (int k = 0; k < 4; ++k) {
    v[k] = a.val[k];
    v[4 + k] = b.val[k];
  }
}

// One activation block (Q8_0 or Q8_1) prepared for the ISA's four-row dot: dotprod reads the lane
// words straight from the two quant vectors; NEON broadcasts each 4-byte word to all lanes once
// per block for every row that uses it.
template <bool kDotprod>
struct ActivationBlock;

template <>
struct ActivationBlock<true> {
  int8x16_t lo, hi;
  explicit ActivationBlock(const int8_t* qs) : lo(vld1q_s8(qs)), hi(vld1q_s8(qs + 16)) {}
};

template <>
struct ActivationBlock<false> {
  int8x16_t word[8];  // word[j]: quants 4j..4j+3 in every lane
  explicit ActivationBlock(const int8_t* qs) {
    const int32x4_t lo = vreinterpretq_s32_s8(vld1q_s8(qs)), hi = vreinterpretq_s32_s8(vld1q_s8(qs + 16));
    word[0] = vreinterpretq_s8_s32(vdupq_laneq_s32(lo, 0));
    word[1] = vreinterpretq_s8_s32(vdupq_laneq_s32(lo, 1));
    word[2] = vreinterpretq_s8_s32(vdupq_laneq_s32(lo, 2));
    word[3] = vreinterpretq_s8_s32(vdupq_laneq_s32(lo, 3));
    word[4] = vreinterpretq_s8_s32(vdupq_laneq_s32(hi, 0));
    word[5] = vreinterpretq_s8_s32(vdupq_laneq_s32(hi, 1));
    word[6] = vreinterpretq_s8_s32(vdupq_laneq_s32(hi, 2));
    word[7] = vreinterpretq_s8_s32(vdupq_laneq_s32(hi, 3));
  }
};

// NEON: sum over j in [j0, j0 + count) of v[j] . word j, per row lane, with the products summed
// in int16 lanes first (p01: rows 0 and 1 x four word positions; p23: rows 2 and 3); the caller
// guarantees count * max|q| * 128 < 2^15.
inline int32x4_t word_products_sum(const int8x16_t v[8], const ActivationBlock<false>& a, int j0, int count) {
  int16x8_t p01 = vmull_s8(vget_low_s8(v[j0]), vget_low_s8(a.word[j0]));
  int16x8_t p23 = vmull_high_s8(v[j0], a.word[j0]);
  for (int j = j0 + 1; j < j0 + count; ++j) {
    p01 = vmlal_s8(p01, vget_low_s8(v[j]), vget_low_s8(a.word[j]));
    p23 = vmlal_high_s8(p23, v[j], a.word[j]);
  }
  return vpaddq_s32(vpaddlq_s16(p01), vpaddlq_s16(p23));
}

// sum_j v[j] . word j of the activation, per row lane (four rows, 32 elements).
// kSmall: every |weight quant| <= 31 (nibbles, nibble - 8, Q5_K's five bits), so NEON may sum
// eight int16 products per lane (8 * 31 * 128 < 2^15) before widening; otherwise (Q8_0: 128 * 128
// = 2^14 per product) each product widens at once.
template <bool kDotprod, bool kSmall>
int32x4_t rows4_dot(const int8x16_t v[8], const ActivationBlock<kDotprod>& a) {
  if constexpr (kDotprod) {
    int32x4_t acc = vdotq_laneq_s32(vdupq_n_s32(0), v[0], a.lo, 0);
    acc = vdotq_laneq_s32(acc, v[1], a.lo, 1);
    acc = vdotq_laneq_s32(acc, v[2], a.lo, 2);
    acc = vdotq_laneq_s32(acc, v[3], a.lo, 3);
    acc = vdotq_laneq_s32(acc, v[4], a.hi, 0);
    acc = vdotq_laneq_s32(acc, v[5], a.hi, 1);
    acc = vdotq_laneq_s32(acc, v[6], a.hi, 2);
    return vdotq_laneq_s32(acc, v[7], a.hi, 3);
  } else if constexpr (kSmall) {
    return word_products_sum(v, a, 0, 8);
  } else {
    int32x4_t s01 = vdupq_n_s32(0), s23 = vdupq_n_s32(0);
    for (int j = 0; j < 8; ++j) {
      s01 = vpadalq_s16(s01, vmull_s8(vget_low_s8(v[j]), vget_low_s8(a.word[j])));
      s23 = vpadalq_s16(s23, vmull_high_s8(v[j], a.word[j]));
    }
    return vpaddq_s32(s01, s23);
  }
}

// Half of rows4_dot: v[0..3] against activation words 4 kHalf .. 4 kHalf + 3 (so that a format
// can build its vectors four at a time; the integer sum's order is free).
template <bool kDotprod, int kHalf>
int32x4_t rows4_dot_half(const int8x16_t v[4], const ActivationBlock<kDotprod>& a) {
  if constexpr (kDotprod) {
    // auto: the type depends on kDotprod, so clang looks the sdot intrinsic up only when it
    // instantiates this branch (the NEON files are built without dotprod).
    const auto words = kHalf == 0 ? a.lo : a.hi;
    int32x4_t acc = vdotq_laneq_s32(vdupq_n_s32(0), v[0], words, 0);
    acc = vdotq_laneq_s32(acc, v[1], words, 1);
    acc = vdotq_laneq_s32(acc, v[2], words, 2);
    return vdotq_laneq_s32(acc, v[3], words, 3);
  } else {
    int8x16_t all[8];
    for (int k = 0; k < 4; ++k) all[4 * kHalf + k] = v[k];
    return word_products_sum(all, a, 4 * kHalf, 4);
  }
}

// The same as two 16-element dots (v[0..3] against a.lo, v[4..7] against a.hi), for formats with
// a scale per 16 elements. NEON sums four int16 products per lane: |q| <= 63 here, 4 * 63 * 128
// < 2^15.
template <bool kDotprod>
void rows4_dot_16s(const int8x16_t v[8], const ActivationBlock<kDotprod>& a, int32x4_t& first, int32x4_t& second) {
  if constexpr (kDotprod) {
    first = vdotq_laneq_s32(vdupq_n_s32(0), v[0], a.lo, 0);
    first = vdotq_laneq_s32(first, v[1], a.lo, 1);
    first = vdotq_laneq_s32(first, v[2], a.lo, 2);
    first = vdotq_laneq_s32(first, v[3], a.lo, 3);
    second = vdotq_laneq_s32(vdupq_n_s32(0), v[4], a.hi, 0);
    second = vdotq_laneq_s32(second, v[5], a.hi, 1);
    second = vdotq_laneq_s32(second, v[6], a.hi, 2);
    second = vdotq_laneq_s32(second, v[7], a.hi, 3);
  } else {
    first = word_products_sum(v, a, 0, 4);
    second = word_products_sum(v, a, 4, 4);
  }
}

}  // namespace
}  // namespace ple::kernels
