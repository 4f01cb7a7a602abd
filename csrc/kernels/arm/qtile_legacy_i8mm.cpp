// i8mm (armv8.2-a+dotprod+i8mm) 2x2 prefill tiles: two weight rows against two activation rows
// (tokens), Q4_0 and Q8_0 weights against Q8_0 activations.
//
// smmla multiplies a 2x8 int8 matrix by the transpose of another 2x8 one into a 2x2 int32
// accumulator: C[i][j] += sum_k A[i][k] * B[j][k]. With A = 8 quants of weight rows 0 and 1 and B
// = the same 8 elements of activation rows 0 and 1, one instruction does the 32 multiplies of all
// four dots, so each weight byte loaded serves two tokens. Per block the int32 lanes are
// [w0.a0, w0.a1, w1.a0, w1.a1] (exact); the float part is the __ref twin's, per lane and in its
// order: sum += (d_w * d_a) * isum. So out[2r + t] equals qdot(w_r, a_t) of the reference bit for
// bit, and tiles and single dots can be mixed in one matmul.
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "kernels/arm/arm_kernels.h"
#include "kernels/arm/neon_helpers.h"
#include "quant/blocks.h"

namespace ple::kernels {
namespace {

// 16 elements of two weight rows (x0, x1) and of two activation rows (y0, y1): two smmla, each
// over 8 elements (zip of the 64-bit halves puts row 0's 8 bytes before row 1's).
int32x4_t mmla16(int32x4_t acc, int8x16_t x0, int8x16_t x1, int8x16_t y0, int8x16_t y1) {
  const auto zip1 = [](int8x16_t p, int8x16_t q) {
    return vreinterpretq_s8_s64(vzip1q_s64(vreinterpretq_s64_s8(p), vreinterpretq_s64_s8(q)));
  };
  const auto zip2 = [](int8x16_t p, int8x16_t q) {
    return vreinterpretq_s8_s64(vzip2q_s64(vreinterpretq_s64_s8(p), vreinterpretq_s64_s8(q)));
  };
  acc = vmmlaq_s32(acc, zip1(x0, x1), zip1(y0, y1));
  return vmmlaq_s32(acc, zip2(x0, x1), zip2(y0, y1));
}

// Q4_0 quants of one block as int8: elements 0..15 (lo) and 16..31 (hi), nibble - 8.
void q4_0_quants(const BlockQ4_0& x, int8x16_t& lo, int8x16_t& hi) {
  unpack_nibbles(x.qs, lo, hi);
  lo = vsubq_s8(lo, vdupq_n_s8(8));
  hi = vsubq_s8(hi, vdupq_n_s8(8));
}
void q8_0_quants(const BlockQ8_0& x, int8x16_t& lo, int8x16_t& hi) {
  lo = vld1q_s8(x.qs);
  hi = vld1q_s8(x.qs + 16);
}

template <class WBlock, class Quants>
void tile2x2(int64_t n, const void* w, size_t w_stride, const void* a, size_t a_stride, float out[4], Quants quants) {
  const auto* w0 = static_cast<const WBlock*>(w);
  const auto* w1 = reinterpret_cast<const WBlock*>(static_cast<const uint8_t*>(w) + w_stride);
  const auto* a0 = static_cast<const BlockQ8_0*>(a);
  const auto* a1 = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(a) + a_stride);
  float32x4_t sum = vdupq_n_f32(0.0f);
  for (int64_t b = 0; b < n / kQK; ++b) {
    int8x16_t x0_lo, x0_hi, x1_lo, x1_hi;
    quants(w0[b], x0_lo, x0_hi);
    quants(w1[b], x1_lo, x1_hi);
    int32x4_t acc = mmla16(vdupq_n_s32(0), x0_lo, x1_lo, vld1q_s8(a0[b].qs), vld1q_s8(a1[b].qs));
    acc = mmla16(acc, x0_hi, x1_hi, vld1q_s8(a0[b].qs + 16), vld1q_s8(a1[b].qs + 16));
    // Lanes (r, t) = (0,0), (0,1), (1,0), (1,1): weight scales [d0, d0, d1, d1], activation
    // scales [e0, e1, e0, e1]; their products are exact in float32.
    const float32x4_t dw = halves_to_floats(w0[b].d, w0[b].d, w1[b].d, w1[b].d);
    const float32x4_t da = halves_to_floats(a0[b].d, a1[b].d, a0[b].d, a1[b].d);
    sum = vaddq_f32(sum, vmulq_f32(vmulq_f32(dw, da), vcvtq_f32_s32(acc)));
  }
  vst1q_f32(out, sum);
}

}  // namespace

void qtile_q4_0_q8_0_2x2__i8mm(int64_t n, const void* w, size_t w_stride, const void* a, size_t a_stride, float out[4]) {
  tile2x2<BlockQ4_0>(n, w, w_stride, a, a_stride, out, q4_0_quants);
}

void qtile_q8_0_q8_0_2x2__i8mm(int64_t n, const void* w, size_t w_stride, const void* a, size_t a_stride, float out[4]) {
  tile2x2<BlockQ8_0>(n, w, w_stride, a, a_stride, out, q8_0_quants);
}

}  // namespace ple::kernels
