// Dots of the 32-element block formats (Q4_0, Q5_0, Q8_0 x Q8_0; Q4_1, Q5_1 x Q8_1), shared by the
// NEON and dotprod tiers, which differ only in the integer primitive `Isa::dot16(acc, x, y)`:
// acc plus the products of 16 int8 pairs, summed into four int32 lanes. Included only by
// qdot_legacy_neon.cpp and qdot_legacy_dotprod.cpp; internal linkage, so each file instantiates
// its own copy with its own flags.
//
// Per block the weight quants are brought to int8 (Q4_0: nibble - 8, Q5_0: nibble | bit5 - 16,
// Q4_1/Q5_1: the unsigned quant, 0..31, which fits int8), the integer sum is exact, and the
// float part repeats the __ref twin's operations in its order: sum += (d_w * d_a) * isum
// (+ m * s for Q4_1/Q5_1) per block, so the result equals the reference bit for bit. The
// reduction is one add per block of 32: decode is memory-bound long before it matters.
#pragma once
#include <arm_neon.h>

#include <cstdint>

#include "kernels/arm/neon_helpers.h"
#include "quant/blocks.h"

namespace ple::kernels {
namespace {

template <class Isa, class WBlock, class ABlock, bool kMin, class Quants>
float dot_blocks(int64_t n, const void* w, const void* a, Quants quants) {
  const auto* wb = static_cast<const WBlock*>(w);
  const auto* ab = static_cast<const ABlock*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    int8x16_t lo, hi;  // weight quants of elements 0..15 and 16..31
    quants(wb[b], lo, hi);
    int32x4_t acc = Isa::dot16(vdupq_n_s32(0), lo, vld1q_s8(ab[b].qs));
    acc = Isa::dot16(acc, hi, vld1q_s8(ab[b].qs + 16));
    const float isum = static_cast<float>(vaddvq_s32(acc));
    const float dd = half_to_float(wb[b].d) * half_to_float(ab[b].d);
    if constexpr (kMin) {
      sum += dd * isum + half_to_float(wb[b].m) * half_to_float(ab[b].s);
    } else {
      sum += dd * isum;
    }
  }
  return sum;
}

// The weight quants of the formats with fifth bits, as dot_blocks and dot_rows4 take them.
struct Q5_0Quants {
  void operator()(const BlockQ5_0& x, int8x16_t& lo, int8x16_t& hi) const { q5_0_quants(x, lo, hi); }
};
struct Q5_1Quants {
  void operator()(const BlockQ5_1& x, int8x16_t& lo, int8x16_t& hi) const { q5_1_quants(x, lo, hi); }
};

// Decode tile: four rows (w_stride bytes apart) against one activation row, out[r] = dot_blocks
// of row r bit for bit. Each activation block is loaded once for the four rows, and the float
// step runs on their four lanes at once (the same operations per lane).
template <class Isa, class WBlock, class ABlock, bool kMin, class Quants>
void dot_rows4(int64_t n, const void* w, size_t w_stride, const void* a, float* out, Quants quants) {
  const auto* ab = static_cast<const ABlock*>(a);
  const WBlock* rows[4];
  for (int r = 0; r < 4; ++r) rows[r] = reinterpret_cast<const WBlock*>(static_cast<const uint8_t*>(w) + r * w_stride);
  float32x4_t sum = vdupq_n_f32(0.0f);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const int8x16_t a_lo = vld1q_s8(ab[b].qs), a_hi = vld1q_s8(ab[b].qs + 16);
    int32x4_t acc[4];
    for (int i = 0; i < 4; ++i) {
      int8x16_t lo, hi;
      quants(rows[i][b], lo, hi);
      acc[i] = Isa::dot16(Isa::dot16(vdupq_n_s32(0), lo, a_lo), hi, a_hi);
    }
    const int32x4_t isum = vpaddq_s32(vpaddq_s32(acc[0], acc[1]), vpaddq_s32(acc[2], acc[3]));
    const float32x4_t dw = halves_to_floats(rows[0][b].d, rows[1][b].d, rows[2][b].d, rows[3][b].d);
    const float da = half_to_float(ab[b].d);
    if constexpr (kMin) {
      const float32x4_t m = halves_to_floats(rows[0][b].m, rows[1][b].m, rows[2][b].m, rows[3][b].m);
      sum = accumulate_min(sum, dw, da, isum, m, half_to_float(ab[b].s));
    } else {
      sum = accumulate(sum, dw, da, isum);
    }
  }
  vst1q_f32(out, sum);
}

template <class Isa>
float dot_q4_0(int64_t n, const void* w, const void* a) {
  return dot_blocks<Isa, BlockQ4_0, BlockQ8_0, false>(n, w, a, [](const BlockQ4_0& x, int8x16_t& lo, int8x16_t& hi) {
    unpack_nibbles(x.qs, lo, hi);
    lo = vsubq_s8(lo, vdupq_n_s8(8));
    hi = vsubq_s8(hi, vdupq_n_s8(8));
  });
}

template <class Isa>
float dot_q5_0(int64_t n, const void* w, const void* a) {
  return dot_blocks<Isa, BlockQ5_0, BlockQ8_0, false>(n, w, a, Q5_0Quants{});
}

template <class Isa>
float dot_q8_0(int64_t n, const void* w, const void* a) {
  return dot_blocks<Isa, BlockQ8_0, BlockQ8_0, false>(n, w, a, [](const BlockQ8_0& x, int8x16_t& lo, int8x16_t& hi) {
    lo = vld1q_s8(x.qs);
    hi = vld1q_s8(x.qs + 16);
  });
}

template <class Isa>
float dot_q4_1(int64_t n, const void* w, const void* a) {
  return dot_blocks<Isa, BlockQ4_1, BlockQ8_1, true>(n, w, a, [](const BlockQ4_1& x, int8x16_t& lo, int8x16_t& hi) {
    unpack_nibbles(x.qs, lo, hi);
  });
}

template <class Isa>
float dot_q5_1(int64_t n, const void* w, const void* a) {
  return dot_blocks<Isa, BlockQ5_1, BlockQ8_1, true>(n, w, a, Q5_1Quants{});
}

}  // namespace
}  // namespace ple::kernels
