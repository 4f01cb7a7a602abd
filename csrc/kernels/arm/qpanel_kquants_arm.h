// Prefill panels for the k-quants (kernel_table.h, PanelKernel) over 8 rows, as templates over
// the tier. A Q4_K or Q6_K panel is one packed group (qgemv_packed_arm.h) with its quants unpacked
// once to int8 in Q8_0x8's four-row words and its scales widened, so the token loop only loads and
// multiplies:
// the nibble splitting (Q4_K) and 6-bit assembly (Q6_K) that the GEMV repeats for every token is
// done once per panel, and each pass serves kTokens tokens per load of the weights.
//
//   Q4_K panel, per super-block column (2496 bytes): float d[8], dmin[8]; int32 sc[8][8] (sub-block
//     j, row r); int16 m[8][8]; then int8 quants [j][h][8 vectors]: rows 4h..4h+3 of sub-block j's
//     32 elements, vector k holding elements 4k..4k+3 of each row (0..15).
//   Q6_K panel (2592 bytes): float d[8]; int32 sc[16][8]; then int8 quants [p][h][8 vectors] for
//     the pairs p of 16-element sub-blocks (2p, 2p + 1), each as q - 32 (-32..31).
//   Q5_K panel: Q4_K's, with quants 0..31 (its fifth bits ORed in).
//   Q3_K panel: Q6_K's, with quants -4..3 and scales -32..31; built from the file's rows.
//   Q2_K panel (2880 bytes): float d[8], dmin[8]; int32 sc[16][8]; int16 m[16][8]; then Q6_K's
//     quant layout (0..3); built from the file's rows.
//
// The integer sums are the GEMV's (exact in int32, so their order is free: Q6_K's q - 32 needs no
// bsums correction) and the float step is the GEMV's (the one-row dot's, for the formats without
// a GEMV), so every output equals the one-row dot bit for bit. Included only by the ARM kernel
// files (qpanel_neon.cpp, qpanel_dotprod.cpp, qpanel_kquants_i8mm.cpp, and qgemv_packed_neon.cpp
// for the panels of packed groups); internal linkage.
#pragma once
#include <utility>

#include "kernels/arm/qgemv_packed_arm.h"

namespace ple::kernels {
namespace {

constexpr size_t kQ4KPanelQuantsAt = 2 * kGroupRows * sizeof(float) + 8 * kGroupRows * (sizeof(int32_t) + sizeof(int16_t));
constexpr size_t kQ4KPanelBytes = kQ4KPanelQuantsAt + kGroupRows * kQK_K;  // 2496
constexpr size_t kQ6KPanelQuantsAt = kGroupRows * sizeof(float) + 16 * kGroupRows * sizeof(int32_t);
constexpr size_t kQ6KPanelBytes = kQ6KPanelQuantsAt + kGroupRows * kQK_K;  // 2592
constexpr size_t kQ2KPanelScalesAt = 2 * kGroupRows * sizeof(float);
constexpr size_t kQ2KPanelMinsAt = kQ2KPanelScalesAt + 16 * kGroupRows * sizeof(int32_t);
constexpr size_t kQ2KPanelQuantsAt = kQ2KPanelMinsAt + 16 * kGroupRows * sizeof(int16_t);
constexpr size_t kQ2KPanelBytes = kQ2KPanelQuantsAt + kGroupRows * kQK_K;  // 2880

inline void store_quants8(int8_t* out, const int8x16_t v[8]) {
  for (int k = 0; k < 8; ++k) vst1q_s8(out + 16 * k, v[k]);
}
// Eight vectors by single loads: gcc moves the x4 structure loads' results through the stack.
inline void load_quants8(const int8_t* q, int8x16_t v[8]) {
  for (int k = 0; k < 8; ++k) v[k] = vld1q_s8(q + 16 * k);
}

// One super-block column of a Q4_K group -> its panel block.
inline void expand_q4_k_block(const uint8_t* group, uint8_t* panel) {
  store_scales8_as_floats(group, panel);
  store_scales8_as_floats(group + 16, panel + 32);
  auto* sc = reinterpret_cast<int32_t*>(panel + 64);
  auto* m = reinterpret_cast<int16_t*>(panel + 64 + 8 * kGroupRows * sizeof(int32_t));
  for (int j = 0; j < 8; ++j) {
    const uint16x8_t sc16 = vmovl_u8(vld1_u8(group + 32 + 8 * j));
    vst1q_s32(sc + 8 * j, vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(sc16))));
    vst1q_s32(sc + 8 * j + 4, vreinterpretq_s32_u32(vmovl_high_u16(sc16)));
    vst1q_s16(m + 8 * j, vreinterpretq_s16_u16(vmovl_u8(vld1_u8(group + 96 + 8 * j))));
  }
  auto* q = reinterpret_cast<int8_t*>(panel + kQ4KPanelQuantsAt);
  for (int h = 0; h < 2; ++h) {
    for (int c = 0; c < 4; ++c) {  // group vectors 8c + k: sub-block 2c (low nibbles), 2c + 1 (high)
      const uint8_t* raw = group + 160 + 512 * h + 128 * c;
      int8x16_t low[8], high[8];
      for (int k = 0; k < 8; ++k) split_nibbles(vld1q_u8(raw + 16 * k), low[k], high[k]);
      store_quants8(q + 128 * (2 * (2 * c) + h), low);
      store_quants8(q + 128 * (2 * (2 * c + 1) + h), high);
    }
  }
}

// One super-block column of a Q6_K group -> its panel block (the GEMV's quant assembly, then - 32).
inline void expand_q6_k_block(const uint8_t* group, uint8_t* panel) {
  store_scales8_as_floats(group, panel);
  auto* sc = reinterpret_cast<int32_t*>(panel + 32);
  for (int j = 0; j < 16; ++j) {
    const int16x8_t sc16 = vmovl_s8(vld1_s8(reinterpret_cast<const int8_t*>(group + 16 + 8 * j)));
    vst1q_s32(sc + 8 * j, vmovl_s16(vget_low_s16(sc16)));
    vst1q_s32(sc + 8 * j + 4, vmovl_high_s16(sc16));
  }
  auto* q = reinterpret_cast<int8_t*>(panel + kQ6KPanelQuantsAt);
  const int8x16_t offset = vdupq_n_s8(32);
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql_base = group + 144 + 768 * h;
    const uint8_t* qh_base = ql_base + 512;
    for (int u = 0; u < 2; ++u) {
      uint8x16_t bits[8];
      for (int w = 0; w < 8; ++w) bits[w] = vld1q_u8(qh_base + 128 * u + 16 * w);
      for (int half = 0; half < 2; ++half) {  // element pairs 4u + half (low nibbles), 4u + half + 2 (high)
        uint8x16_t ql[8];
        for (int w = 0; w < 8; ++w) ql[w] = vld1q_u8(ql_base + 256 * u + 128 * half + 16 * w);
        if (half == 1) {
          for (int w = 0; w < 8; ++w) bits[w] = vshrq_n_u8(bits[w], 2);
        }
        int8x16_t v[8];
        Q6_Kx8<false>::low_step_quants(ql, bits, v);
        for (int w = 0; w < 8; ++w) v[w] = vsubq_s8(v[w], offset);
        store_quants8(q + 128 * (2 * (4 * u + half) + h), v);
        Q6_Kx8<false>::high_step_quants(ql, bits, v);
        for (int w = 0; w < 8; ++w) v[w] = vsubq_s8(v[w], offset);
        store_quants8(q + 128 * (2 * (4 * u + half + 2) + h), v);
      }
    }
  }
}

// Q5_K: Q4_K's panel format with quants 0..31, from a Q5_Kx8 group column (qgemv_packed_arm.h):
// panel vector (s, h, k) ORs in bit s of fifth-bit vector (h, k), as 16.
inline void expand_q5_k_block(const uint8_t* column, uint8_t* panel) {
  expand_q4_k_block(column, panel);
  auto* q = reinterpret_cast<int8_t*>(panel + kQ4KPanelQuantsAt);
  const uint8x16_t fifth = vdupq_n_u8(0x10);
  for (int h = 0; h < 2; ++h) {
    for (int k = 0; k < 8; ++k) {
      const uint8x16_t bits = vld1q_u8(column + kQ4KGroupBytes + 128 * h + 16 * k);
      for (int s = 0; s < 8; ++s) {
        int8_t* v = q + 128 * (2 * s + h) + 16 * k;
        const uint8x16_t high = vandq_u8(vtstq_u8(bits, vdupq_n_u8(static_cast<uint8_t>(1u << s))), fifth);
        vst1q_s8(v, vorrq_s8(vld1q_s8(v), vreinterpretq_s8_u8(high)));
      }
    }
  }
}

// Q2_K and Q3_K have no packed layout: their panels hold 16-element sub-blocks like
// Q6_K's: Q3_K uses Q6_K's format as it is (quants -4..3, scales -32..31: the reference's float
// step is Q6_K's); Q2_K's adds dmin and the sub-blocks' minimums (panel layout at Q2KPanel). Both
// are built from 8 file rows: each row's super-block unpacked to int8 (the one-row dot's runs),
// then interleaved.
inline void store_k16_quants(const int8_t (&q)[kGroupRows][kQK_K], int8_t* out) {
  for (int p = 0; p < 8; ++p) {
    for (int h = 0; h < 2; ++h) {
      const int8_t* four[4] = {q[4 * h] + 32 * p, q[4 * h + 1] + 32 * p, q[4 * h + 2] + 32 * p, q[4 * h + 3] + 32 * p};
      interleave_rows4(four, 32, out + 128 * (2 * p + h));
    }
  }
}

inline void pack_q3_k_panel_block(const uint8_t* rows, size_t w_stride, int64_t b, uint8_t* panel) {
  alignas(16) int8_t q[kGroupRows][kQK_K];
  uint16_t d[kGroupRows];
  auto* sc = reinterpret_cast<int32_t*>(panel + kGroupRows * sizeof(float));
  for (int r = 0; r < kGroupRows; ++r) {
    const BlockQ3_K& x = reinterpret_cast<const BlockQ3_K*>(rows + static_cast<size_t>(r) * w_stride)[b];
    d[r] = x.d;
    int32_t row_scales[16];
    unpack_scales_q3_k(x.scales, row_scales);
    for (int j = 0; j < 16; ++j) sc[8 * j + r] = row_scales[j];
    k16_runs(x, [&](int j, int8x16_t run) { vst1q_s8(q[r] + 16 * j, run); });
  }
  store_scales8_as_floats(reinterpret_cast<const uint8_t*>(d), panel);
  store_k16_quants(q, reinterpret_cast<int8_t*>(panel + kQ6KPanelQuantsAt));
}

inline void pack_q2_k_panel_block(const uint8_t* rows, size_t w_stride, int64_t b, uint8_t* panel) {
  alignas(16) int8_t q[kGroupRows][kQK_K];
  uint16_t d[kGroupRows], dmin[kGroupRows];
  auto* sc = reinterpret_cast<int32_t*>(panel + kQ2KPanelScalesAt);
  auto* m = reinterpret_cast<int16_t*>(panel + kQ2KPanelMinsAt);
  for (int r = 0; r < kGroupRows; ++r) {
    const BlockQ2_K& x = reinterpret_cast<const BlockQ2_K*>(rows + static_cast<size_t>(r) * w_stride)[b];
    d[r] = x.d;
    dmin[r] = x.dmin;
    for (int j = 0; j < 16; ++j) {
      sc[8 * j + r] = x.scales[j] & 0x0f;
      m[8 * j + r] = static_cast<int16_t>(x.scales[j] >> 4);
    }
    k16_runs(x, [&](int j, int8x16_t run) { vst1q_s8(q[r] + 16 * j, run); });
  }
  store_scales8_as_floats(reinterpret_cast<const uint8_t*>(d), panel);
  store_scales8_as_floats(reinterpret_cast<const uint8_t*>(dmin), panel + kGroupRows * sizeof(float));
  store_k16_quants(q, reinterpret_cast<int8_t*>(panel + kQ2KPanelQuantsAt));
}

template <size_t kPanelBlockBytes, void (*kPackBlock)(const uint8_t*, size_t, int64_t, uint8_t*)>
void pack_k16_panel(int64_t n, const void* w, size_t w_stride, void* panel) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    kPackBlock(static_cast<const uint8_t*>(w), w_stride, b, static_cast<uint8_t*>(panel) + b * kPanelBlockBytes);
  }
}

template <size_t kGroupBlockBytes, size_t kPanelBlockBytes, void (*kExpand)(const uint8_t*, uint8_t*)>
void expand_k_group(int64_t n, const void* group, void* panel) {
  const auto* p = static_cast<const uint8_t*>(group);
  auto* out = static_cast<uint8_t*>(panel);
  for (int64_t b = 0; b < n / kQK_K; ++b) kExpand(p + b * kGroupBlockBytes, out + b * kPanelBlockBytes);
}

// The panel of 8 file rows: each super-block column goes through the group layout on the stack.
template <size_t kGroupBlockBytes, size_t kPanelBlockBytes, void (*kPack)(const uint8_t*, size_t, int64_t, uint8_t*),
          void (*kExpand)(const uint8_t*, uint8_t*)>
void pack_k_panel_from_rows(int64_t n, const void* w, size_t w_stride, void* panel) {
  uint8_t column[kGroupBlockBytes];
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    kPack(static_cast<const uint8_t*>(w), w_stride, b, column);
    kExpand(column, static_cast<uint8_t*>(panel) + b * kPanelBlockBytes);
  }
}

// Rows 4h..4h+3: sum_j m_j * (bsums[2j] + bsums[2j + 1]) over Q4_K's 8 sub-blocks, from the pair
// sums (|pair| <= 2 * 16 * 128, so int16 holds them).
inline int32x4_t q4_k_min_sums(const int16_t* m, int16x8_t pairs, int h) {
  int32x4_t s = vmull_laneq_s16(vld1_s16(m + 4 * h), pairs, 0);
  s = vmlal_laneq_s16(s, vld1_s16(m + 8 + 4 * h), pairs, 1);
  s = vmlal_laneq_s16(s, vld1_s16(m + 16 + 4 * h), pairs, 2);
  s = vmlal_laneq_s16(s, vld1_s16(m + 24 + 4 * h), pairs, 3);
  s = vmlal_laneq_s16(s, vld1_s16(m + 32 + 4 * h), pairs, 4);
  s = vmlal_laneq_s16(s, vld1_s16(m + 40 + 4 * h), pairs, 5);
  s = vmlal_laneq_s16(s, vld1_s16(m + 48 + 4 * h), pairs, 6);
  return vmlal_laneq_s16(s, vld1_s16(m + 56 + 4 * h), pairs, 7);
}

// Each panel format: its block's bytes, `integer_sums` (isum[t] += the exact integer sums of rows
// 4h..4h+3 against token t over one super-block column) and `finish` (the GEMV's float step for
// that column, in its order).
struct Q4KPanel {
  static constexpr size_t kBytes = kQ4KPanelBytes;
  template <bool kDotprod, int... kT>
  static void integer_sums(const uint8_t* panel, int h, const BlockQ8_K* const* x, int32x4_t* isum,
                           std::integer_sequence<int, kT...>) {
    const auto* sc = reinterpret_cast<const int32_t*>(panel + 64);
    const auto* q = reinterpret_cast<const int8_t*>(panel + kQ4KPanelQuantsAt);
    // Not unrolled: gcc then keeps the loop in registers (49 instructions per sub-block for three
    // tokens, 24 of them sdot); unrolled, it hoists loads and spills (Q6_K's loop is the opposite).
    for (int j = 0; j < 8; ++j) {
      int8x16_t v[8];
      load_quants8(q + 128 * (2 * j + h), v);
      const int32x4_t scale = vld1q_s32(sc + 8 * j + 4 * h);
      ((isum[kT] = vmlaq_s32(isum[kT], rows4_dot<kDotprod, true>(v, ActivationBlock<kDotprod>(x[kT]->qs + 32 * j)), scale)), ...);
    }
  }
  static float32x4_t finish(float32x4_t acc, const uint8_t* panel, int h, const BlockQ8_K& x, int32x4_t isum) {
    const auto* f = reinterpret_cast<const float*>(panel);
    const auto* m = reinterpret_cast<const int16_t*>(panel + 64 + 8 * kGroupRows * sizeof(int32_t));
    const int16x8_t pairs = vpaddq_s16(vld1q_s16(x.bsums), vld1q_s16(x.bsums + 8));
    const int32x4_t msum = q4_k_min_sums(m, pairs, h);
    const float32x4_t d = vmulq_n_f32(vld1q_f32(f + 4 * h), x.d), dmin = vmulq_n_f32(vld1q_f32(f + 8 + 4 * h), x.d);
    return vaddq_f32(acc, vsubq_f32(vmulq_f32(d, vcvtq_f32_s32(isum)), vmulq_f32(dmin, vcvtq_f32_s32(msum))));
  }
};

// Formats of 16-element sub-blocks (Q6_K, Q3_K, Q2_K): the integer sums over pairs of sub-blocks,
// each with its own int32 scale, from the scales at kScalesAt and the quants at kQuantsAt.
template <size_t kScalesAt, size_t kQuantsAt>
struct K16Sums {
  template <bool kDotprod, int... kT>
  static void integer_sums(const uint8_t* panel, int h, const BlockQ8_K* const* x, int32x4_t* isum,
                           std::integer_sequence<int, kT...>) {
    const auto* sc = reinterpret_cast<const int32_t*>(panel + kScalesAt);
    const auto* q = reinterpret_cast<const int8_t*>(panel + kQuantsAt);
#pragma GCC unroll 8
    for (int p = 0; p < 8; ++p) {
      int8x16_t v[8];
      load_quants8(q + 128 * (2 * p + h), v);
      const int32x4_t first_scale = vld1q_s32(sc + 16 * p + 4 * h), second_scale = vld1q_s32(sc + 16 * p + 8 + 4 * h);
      const auto pair_step = [&](int32x4_t sum, const int8_t* act) {
        int32x4_t first, second;
        rows4_dot_16s<kDotprod>(v, ActivationBlock<kDotprod>(act), first, second);
        return vmlaq_s32(vmlaq_s32(sum, first, first_scale), second, second_scale);
      };
      ((isum[kT] = pair_step(isum[kT], x[kT]->qs + 32 * p)), ...);
    }
  }
};

// Q6_K (and Q3_K): float d[8], int32 sc[16][8], quants.
struct Q6KPanel : K16Sums<kGroupRows * sizeof(float), kQ6KPanelQuantsAt> {
  static constexpr size_t kBytes = kQ6KPanelBytes;
  static float32x4_t finish(float32x4_t acc, const uint8_t* panel, int h, const BlockQ8_K& x, int32x4_t isum) {
    return accumulate(acc, vld1q_f32(reinterpret_cast<const float*>(panel) + 4 * h), x.d, isum);
  }
};

// Q2_K (2880 bytes): float d[8], dmin[8]; int32 sc[16][8]; int16 m[16][8]; quants (0..3). The
// minimum terms meet the activation's 16 bsums as in the one-row dot.
struct Q2KPanel : K16Sums<kQ2KPanelScalesAt, kQ2KPanelQuantsAt> {
  static constexpr size_t kBytes = kQ2KPanelBytes;
  static float32x4_t finish(float32x4_t acc, const uint8_t* panel, int h, const BlockQ8_K& x, int32x4_t isum) {
    const auto* f = reinterpret_cast<const float*>(panel);
    const auto* m = reinterpret_cast<const int16_t*>(panel + kQ2KPanelMinsAt) + 4 * h;
    const int16x8_t b_lo = vld1q_s16(x.bsums), b_hi = vld1q_s16(x.bsums + 8);
    // |m * bsum| <= 15 * 2048 per term, 16 terms: int32 holds the sum exactly.
    int32x4_t msum = vmull_laneq_s16(vld1_s16(m), b_lo, 0);
    msum = vmlal_laneq_s16(msum, vld1_s16(m + 8), b_lo, 1);
    msum = vmlal_laneq_s16(msum, vld1_s16(m + 16), b_lo, 2);
    msum = vmlal_laneq_s16(msum, vld1_s16(m + 24), b_lo, 3);
    msum = vmlal_laneq_s16(msum, vld1_s16(m + 32), b_lo, 4);
    msum = vmlal_laneq_s16(msum, vld1_s16(m + 40), b_lo, 5);
    msum = vmlal_laneq_s16(msum, vld1_s16(m + 48), b_lo, 6);
    msum = vmlal_laneq_s16(msum, vld1_s16(m + 56), b_lo, 7);
    msum = vmlal_laneq_s16(msum, vld1_s16(m + 64), b_hi, 0);
    msum = vmlal_laneq_s16(msum, vld1_s16(m + 72), b_hi, 1);
    msum = vmlal_laneq_s16(msum, vld1_s16(m + 80), b_hi, 2);
    msum = vmlal_laneq_s16(msum, vld1_s16(m + 88), b_hi, 3);
    msum = vmlal_laneq_s16(msum, vld1_s16(m + 96), b_hi, 4);
    msum = vmlal_laneq_s16(msum, vld1_s16(m + 104), b_hi, 5);
    msum = vmlal_laneq_s16(msum, vld1_s16(m + 112), b_hi, 6);
    msum = vmlal_laneq_s16(msum, vld1_s16(m + 120), b_hi, 7);
    const float32x4_t d = vmulq_n_f32(vld1q_f32(f + 4 * h), x.d), dmin = vmulq_n_f32(vld1q_f32(f + 8 + 4 * h), x.d);
    return vaddq_f32(acc, vsubq_f32(vmulq_f32(d, vcvtq_f32_s32(isum)), vmulq_f32(dmin, vcvtq_f32_s32(msum))));
  }
};

// out[t * out_stride + 4h + i] for the tokens kT... of one pass, rows 4h..4h+3 of the panel (one
// half over every super-block column: the halves share no registers, so nothing is kept, or
// spilled, from one half for the other).
template <class Panel, bool kDotprod, int... kT>
void k_panel_pass(int64_t nb, const uint8_t* panel, int h, const uint8_t* a, size_t a_stride, float* out,
                  size_t out_stride, std::integer_sequence<int, kT...> tokens) {
  constexpr int kTokens = sizeof...(kT);
  float32x4_t acc[kTokens];
  for (int t = 0; t < kTokens; ++t) acc[t] = vdupq_n_f32(0.0f);
  for (int64_t b = 0; b < nb; ++b, panel += Panel::kBytes) {
    const BlockQ8_K* x[kTokens] = {(reinterpret_cast<const BlockQ8_K*>(a + kT * a_stride) + b)...};
    int32x4_t isum[kTokens];
    for (int t = 0; t < kTokens; ++t) isum[t] = vdupq_n_s32(0);
    Panel::template integer_sums<kDotprod>(panel, h, x, isum, tokens);
    for (int t = 0; t < kTokens; ++t) acc[t] = Panel::finish(acc[t], panel, h, *x[t], isum[t]);
  }
  for (int t = 0; t < kTokens; ++t) vst1q_f32(out + t * out_stride + 4 * h, acc[t]);
}

// The token loop: dotprod passes three tokens at a time (the activation words come straight from
// two vectors per token); NEON's broadcast words take eight registers per token, so it passes one.
template <class Panel, bool kDotprod>
void k_panel_gemm(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride) {
  constexpr int kTokens = kDotprod ? 3 : 1;
  const int64_t nb = n / kQK_K;
  const auto* p = static_cast<const uint8_t*>(panel);
  const auto* x = static_cast<const uint8_t*>(a);
  const auto pass = [&](int64_t t, auto tokens) {
    for (int h = 0; h < 2; ++h) {
      k_panel_pass<Panel, kDotprod>(nb, p, h, x + t * a_stride, a_stride, out + t * out_stride, out_stride, tokens);
    }
  };
  int64_t t = 0;
  for (; t + kTokens <= n_tokens; t += kTokens) pass(t, std::make_integer_sequence<int, kTokens>());
  if constexpr (kTokens > 2) {  // two left (or a batch of two: speculative verification) share a pass
    if (t + 2 <= n_tokens) {
      pass(t, std::make_integer_sequence<int, 2>());
      t += 2;
    }
  }
  for (; t < n_tokens; ++t) pass(t, std::make_integer_sequence<int, 1>());
}

}  // namespace
}  // namespace ple::kernels
