// Prefill panels for Q4_0, Q4_1 and Q8_0 (kernel_table.h, PanelKernel) over 8 rows, and the panel
// built straight from a packed group (PackedKernels::pack_panel), as templates over the tier.
// The panel (qpacked_core_arm.h) holds each block column's scales as floats and its quants as
// int8 in the interleaved four-row words, so the token loop only loads: each block's weights are
// brought into registers once per pass of kTokens tokens, each activation block once per pass for
// all 8 rows. Included only by qpanel_neon.cpp and qpanel_dotprod.cpp; internal linkage.
#pragma once
#include <array>
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

inline void store_scales8_as_floats(const uint8_t* halves, uint8_t* out) {
  float32x4_t lo, hi;
  load_scales8(halves, lo, hi);
  vst1q_f32(reinterpret_cast<float*>(out), lo);
  vst1q_f32(reinterpret_cast<float*>(out) + 4, hi);
}

// One block column of a nibble group -> its panel block (kOffset: Q4_0's 8 is subtracted).
template <bool kMin, bool kOffset>
void expand_nibble_block(const uint8_t* group, uint8_t* panel) {
  store_scales8_as_floats(group, panel);
  if constexpr (kMin) store_scales8_as_floats(group + 16, panel + 32);
  const uint8_t* q = group + (kMin ? 32 : 16);
  auto* out = reinterpret_cast<int8_t*>(panel + (kMin ? 64 : 32));
  const int8x16_t offset = vdupq_n_s8(kOffset ? 8 : 0);
  for (int h = 0; h < 2; ++h) {
    const uint8x16x4_t raw = vld1q_u8_x4(q + 64 * h);
    for (int k = 0; k < 4; ++k) {
      int8x16_t lo, hi;
      split_nibbles(raw.val[k], lo, hi);
      vst1q_s8(out + 128 * h + 16 * k, vsubq_s8(lo, offset));
      vst1q_s8(out + 128 * h + 16 * (4 + k), vsubq_s8(hi, offset));
    }
  }
}

inline void expand_q8_0_block(const uint8_t* group, uint8_t* panel) {
  store_scales8_as_floats(group, panel);
  std::memcpy(panel + 32, group + 16, kPanelQuantBytes);
}

template <bool kMin, bool kOffset>
void pack_panel_from_nibble_group(int64_t n, const void* group, void* panel) {
  constexpr size_t group_bytes = kMin ? kQ41GroupBytes : kQ40GroupBytes;
  const auto* p = static_cast<const uint8_t*>(group);
  auto* out = static_cast<uint8_t*>(panel);
  for (int64_t b = 0; b < n / kQK; ++b) expand_nibble_block<kMin, kOffset>(p + b * group_bytes, out + b * panel_block_bytes<kMin>());
}

inline void pack_panel_from_q8_0_group(int64_t n, const void* group, void* panel) {
  const auto* p = static_cast<const uint8_t*>(group);
  auto* out = static_cast<uint8_t*>(panel);
  for (int64_t b = 0; b < n / kQK; ++b) expand_q8_0_block(p + b * kQ80GroupBytes, out + b * kPanelBlockBytes);
}

// The panel of 8 file rows: each block column goes through the group layout on the stack.
template <class Block, bool kMin, bool kOffset>
void pack_panel_from_nibble_rows(int64_t n, const void* w, size_t w_stride, void* panel) {
  uint8_t column[kQ41GroupBytes];
  for (int64_t b = 0; b < n / kQK; ++b) {
    pack_nibble_block<Block, kMin>(static_cast<const uint8_t*>(w), w_stride, b, column);
    expand_nibble_block<kMin, kOffset>(column, static_cast<uint8_t*>(panel) + b * panel_block_bytes<kMin>());
  }
}

inline void pack_panel_from_q8_0_rows(int64_t n, const void* w, size_t w_stride, void* panel) {
  uint8_t column[kQ80GroupBytes];
  for (int64_t b = 0; b < n / kQK; ++b) {
    pack_q8_0_block(static_cast<const uint8_t*>(w), w_stride, b, column);
    expand_q8_0_block(column, static_cast<uint8_t*>(panel) + b * kPanelBlockBytes);
  }
}

// The activation blocks of a pass's tokens (ActivationBlock has no default constructor).
template <bool kDotprod, class Activation, int... kT>
std::array<ActivationBlock<kDotprod>, sizeof...(kT)> make_activations(const Activation* const* x, std::integer_sequence<int, kT...>) {
  return {ActivationBlock<kDotprod>(x[kT]->qs)...};
}

// out[t * out_stride + r] = dot(row r, token t) for kTokens tokens from `a` (a_stride apart).
// kSmall: every |weight quant| <= 15 (rows4_dot).
template <bool kDotprod, bool kMin, bool kSmall, int kTokens>
void panel_pass(int64_t nb, const uint8_t* panel, const uint8_t* a, size_t a_stride, float* out, size_t out_stride) {
  using Activation = std::conditional_t<kMin, BlockQ8_1, BlockQ8_0>;
  float32x4_t acc[kTokens][2];
  for (int t = 0; t < kTokens; ++t) acc[t][0] = acc[t][1] = vdupq_n_f32(0.0f);
  for (int64_t b = 0; b < nb; ++b, panel += panel_block_bytes<kMin>()) {
    const auto* f = reinterpret_cast<const float*>(panel);
    const float32x4_t dw[2] = {vld1q_f32(f), vld1q_f32(f + 4)};
    float32x4_t m[2] = {};
    if constexpr (kMin) m[0] = vld1q_f32(f + 8), m[1] = vld1q_f32(f + 12);
    const auto* q = reinterpret_cast<const int8_t*>(panel + (kMin ? 64 : 32));
    const Activation* x[kTokens];
    for (int t = 0; t < kTokens; ++t) x[t] = reinterpret_cast<const Activation*>(a + t * a_stride) + b;
    const std::array<ActivationBlock<kDotprod>, kTokens> act = make_activations<kDotprod>(x, std::make_integer_sequence<int, kTokens>());
    float da[kTokens], sa[kTokens] = {};
    for (int t = 0; t < kTokens; ++t) {
      da[t] = half_to_float(x[t]->d);
      if constexpr (kMin) sa[t] = half_to_float(x[t]->s);
    }
    for (int h = 0; h < 2; ++h) {
      int8x16_t v[8];
      int8_half_quants(q + 128 * h, v);
      for (int t = 0; t < kTokens; ++t) {
        const int32x4_t isum = rows4_dot<kDotprod, kSmall>(v, act[t], vdupq_n_s32(0));
        if constexpr (kMin) {
          acc[t][h] = accumulate_min(acc[t][h], dw[h], da[t], isum, m[h], sa[t]);
        } else {
          acc[t][h] = accumulate(acc[t][h], dw[h], da[t], isum);
        }
      }
    }
  }
  for (int t = 0; t < kTokens; ++t) {
    vst1q_f32(out + t * out_stride, acc[t][0]);
    vst1q_f32(out + t * out_stride + 4, acc[t][1]);
  }
}

template <bool kDotprod, bool kMin, bool kSmall>
void panel_gemm(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride) {
  // dotprod keeps four tokens' activation vectors in registers; NEON's broadcast words take four
  // times as many (eight per token), so it passes one token at a time.
  constexpr int kTokens = kDotprod ? 4 : 1;
  const int64_t nb = n / kQK;
  const auto* p = static_cast<const uint8_t*>(panel);
  const auto* x = static_cast<const uint8_t*>(a);
  int64_t t = 0;
  for (; t + kTokens <= n_tokens; t += kTokens) {
    panel_pass<kDotprod, kMin, kSmall, kTokens>(nb, p, x + t * a_stride, a_stride, out + t * out_stride, out_stride);
  }
  for (; t < n_tokens; ++t) panel_pass<kDotprod, kMin, kSmall, 1>(nb, p, x + t * a_stride, a_stride, out + t * out_stride, out_stride);
}

}  // namespace
}  // namespace ple::kernels
