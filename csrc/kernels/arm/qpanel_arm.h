// Prefill panels for Q4_0, Q4_1, Q8_0, Q5_0 and Q5_1 (kernel_table.h, PanelKernel) over 8 rows,
// and the panel built straight from a packed group (PackedKernels::pack_panel), as templates over
// the tier.
// The panel (qpacked_core_arm.h) holds each block column's scales as floats and its quants as
// int8 in the interleaved four-row words, so the token loop only loads: each block's weights are
// brought into registers once per pass of kTokens tokens, each activation block once per pass for
// all 8 rows. Included only by qpanel_neon.cpp and qpanel_dotprod.cpp; internal linkage.
#pragma once
#include <type_traits>
#include <utility>

#include "kernels/arm/qpacked_core_arm.h"

namespace ple::kernels {
namespace {

template <bool kMin>
constexpr size_t panel_block_bytes() {
  return kMin ? kPanelMinBlockBytes : kPanelBlockBytes;
}
template <bool kMin>
size_t panel_bytes(int64_t n) {
  return static_cast<size_t>(n / kQK) * panel_block_bytes<kMin>();
}

// One block column of a nibble group -> its panel block (Q4_0x8's nibbles, XOR 8, to q - 8).
template <bool kMin>
void expand_nibble_block(const uint8_t* group, uint8_t* panel) {
  store_scales8_as_floats(group, panel);
  if constexpr (kMin) store_scales8_as_floats(group + 16, panel + 32);
  const uint8_t* q = group + (kMin ? 32 : 16);
  auto* out = reinterpret_cast<int8_t*>(panel + (kMin ? 64 : 32));
  for (int h = 0; h < 2; ++h) {
    int8x16_t v[8];
    if constexpr (kMin) {
      nibble_half_quants(q + 64 * h, v);
    } else {
      offset_nibble_half_quants(q + 64 * h, v);
    }
    for (int j = 0; j < 8; ++j) vst1q_s8(out + 128 * h + 16 * j, v[j]);
  }
}

inline void expand_q8_0_block(const uint8_t* group, uint8_t* panel) {
  store_scales8_as_floats(group, panel);
  std::memcpy(panel + 32, group + 16, kPanelQuantBytes);
}

template <bool kMin>
void pack_panel_from_nibble_group(int64_t n, const void* group, void* panel) {
  constexpr size_t group_bytes = kMin ? kQ41GroupBytes : kQ40GroupBytes;
  const auto* p = static_cast<const uint8_t*>(group);
  auto* out = static_cast<uint8_t*>(panel);
  for (int64_t b = 0; b < n / kQK; ++b) expand_nibble_block<kMin>(p + b * group_bytes, out + b * panel_block_bytes<kMin>());
}

inline void pack_panel_from_q8_0_group(int64_t n, const void* group, void* panel) {
  const auto* p = static_cast<const uint8_t*>(group);
  auto* out = static_cast<uint8_t*>(panel);
  for (int64_t b = 0; b < n / kQK; ++b) expand_q8_0_block(p + b * kQ80GroupBytes, out + b * kPanelBlockBytes);
}

// The panel of 8 file rows: each block column goes through the group layout on the stack.
template <class Block, bool kMin>
void pack_panel_from_nibble_rows(int64_t n, const void* w, size_t w_stride, void* panel) {
  uint8_t column[kQ41GroupBytes];
  for (int64_t b = 0; b < n / kQK; ++b) {
    pack_nibble_block<Block, kMin>(static_cast<const uint8_t*>(w), w_stride, b, column);
    expand_nibble_block<kMin>(column, static_cast<uint8_t*>(panel) + b * panel_block_bytes<kMin>());
  }
}

inline void pack_panel_from_q8_0_rows(int64_t n, const void* w, size_t w_stride, void* panel) {
  uint8_t column[kQ80GroupBytes];
  for (int64_t b = 0; b < n / kQK; ++b) {
    pack_q8_0_block(static_cast<const uint8_t*>(w), w_stride, b, column);
    expand_q8_0_block(column, static_cast<uint8_t*>(panel) + b * kPanelBlockBytes);
  }
}

// Q5_0 and Q5_1 have no packed layout; their panel blocks are Q4_0's (quants q - 16) and Q4_1's
// (quants 0..31), built from 8 file rows: each row's quants unpacked to int8, then interleaved.
template <class Block, bool kMin>
void pack_q5_panel_block(const uint8_t* rows, size_t w_stride, int64_t b, uint8_t* panel) {
  alignas(16) int8_t q[kGroupRows][kQK];
  uint16_t d[kGroupRows], m[kGroupRows];
  for (int r = 0; r < kGroupRows; ++r) {
    const Block& x = reinterpret_cast<const Block*>(rows + static_cast<size_t>(r) * w_stride)[b];
    int8x16_t lo, hi;
    if constexpr (kMin) {
      q5_1_quants(x, lo, hi);
      m[r] = x.m;
    } else {
      q5_0_quants(x, lo, hi);
    }
    d[r] = x.d;
    vst1q_s8(q[r], lo);
    vst1q_s8(q[r] + 16, hi);
  }
  store_scales8_as_floats(reinterpret_cast<const uint8_t*>(d), panel);
  if constexpr (kMin) store_scales8_as_floats(reinterpret_cast<const uint8_t*>(m), panel + 32);
  auto* out = reinterpret_cast<int8_t*>(panel + (kMin ? 64 : 32));
  for (int h = 0; h < 2; ++h) {
    const int8_t* four[4] = {q[4 * h], q[4 * h + 1], q[4 * h + 2], q[4 * h + 3]};
    interleave_rows4(four, kQK, out + 128 * h);
  }
}

template <class Block, bool kMin>
void pack_panel_from_q5_rows(int64_t n, const void* w, size_t w_stride, void* panel) {
  for (int64_t b = 0; b < n / kQK; ++b) {
    pack_q5_panel_block<Block, kMin>(static_cast<const uint8_t*>(w), w_stride, b,
                                     static_cast<uint8_t*>(panel) + b * panel_block_bytes<kMin>());
  }
}

// Rows 0..3 and 4..7 of one token's outputs (a function: clang's vst1q_f32 is a macro, which a
// pack expansion cannot pass through).
inline void store_rows8(float* out, float32x4_t lo, float32x4_t hi) {
  vst1q_f32(out, lo);
  vst1q_f32(out + 4, hi);
}

// The activation's scaled sum s (Q8_1), which Q4_1's minimum multiplies; Q8_0 has none.
inline float activation_sum_scale(const BlockQ8_1& x) { return half_to_float(x.s); }
inline float activation_sum_scale(const BlockQ8_0&) { return 0.0f; }

// One half's (four rows') block against one token: the reference's float step on the exact sums.
template <bool kDotprod, bool kMin, bool kSmall>
float32x4_t panel_step(float32x4_t acc, const int8x16_t v[8], const ActivationBlock<kDotprod>& act, float32x4_t dw, float da,
                       float32x4_t m, float sa) {
  const int32x4_t isum = rows4_dot<kDotprod, kSmall>(v, act);
  if constexpr (kMin) return accumulate_min(acc, dw, da, isum, m, sa);
  return accumulate(acc, dw, da, isum);
}

// out[t * out_stride + r] = dot(row r, token t) for the tokens kT... (a_stride apart from `a`).
// kSmall: every |weight quant| <= 15 (rows4_dot). The tokens are spelled out at compile time so
// that their accumulators stay in registers.
template <bool kDotprod, bool kMin, bool kSmall, int... kT>
void panel_pass(int64_t nb, const uint8_t* panel, const uint8_t* a, size_t a_stride, float* out, size_t out_stride,
                std::integer_sequence<int, kT...>) {
  using Activation = std::conditional_t<kMin, BlockQ8_1, BlockQ8_0>;
  constexpr int kTokens = sizeof...(kT);
  float32x4_t acc0[kTokens] = {}, acc1[kTokens] = {};  // rows 0..3, 4..7
  for (int64_t b = 0; b < nb; ++b, panel += panel_block_bytes<kMin>()) {
    const auto* f = reinterpret_cast<const float*>(panel);
    const float32x4_t dw0 = vld1q_f32(f), dw1 = vld1q_f32(f + 4);
    const float32x4_t m0 = kMin ? vld1q_f32(f + 8) : dw0, m1 = kMin ? vld1q_f32(f + 12) : dw1;
    const auto* q = reinterpret_cast<const int8_t*>(panel + (kMin ? 64 : 32));
    const Activation* x[kTokens] = {(reinterpret_cast<const Activation*>(a + kT * a_stride) + b)...};
    const ActivationBlock<kDotprod> act[kTokens] = {ActivationBlock<kDotprod>(x[kT]->qs)...};
    const float da[kTokens] = {half_to_float(x[kT]->d)...};
    const float sa[kTokens] = {activation_sum_scale(*x[kT])...};
    int8x16_t v[8];
    int8_half_quants(q, v);
    ((acc0[kT] = panel_step<kDotprod, kMin, kSmall>(acc0[kT], v, act[kT], dw0, da[kT], m0, sa[kT])), ...);
    int8_half_quants(q + 128, v);
    ((acc1[kT] = panel_step<kDotprod, kMin, kSmall>(acc1[kT], v, act[kT], dw1, da[kT], m1, sa[kT])), ...);
  }
  (store_rows8(out + kT * out_stride, acc0[kT], acc1[kT]), ...);
}

template <bool kDotprod, bool kMin, bool kSmall>
void panel_gemm(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride) {
  // dotprod keeps four tokens' activation vectors in registers; NEON's broadcast words take four
  // times as many (eight per token), so it passes one token at a time.
  constexpr int kTokens = kDotprod ? 3 : 1;
  const int64_t nb = n / kQK;
  const auto* p = static_cast<const uint8_t*>(panel);
  const auto* x = static_cast<const uint8_t*>(a);
  int64_t t = 0;
  for (; t + kTokens <= n_tokens; t += kTokens) {
    panel_pass<kDotprod, kMin, kSmall>(nb, p, x + t * a_stride, a_stride, out + t * out_stride, out_stride,
                                       std::make_integer_sequence<int, kTokens>());
  }
  for (; t < n_tokens; ++t) {
    panel_pass<kDotprod, kMin, kSmall>(nb, p, x + t * a_stride, a_stride, out + t * out_stride, out_stride,
                                       std::make_integer_sequence<int, 1>());
  }
}

}  // namespace
}  // namespace ple::kernels
