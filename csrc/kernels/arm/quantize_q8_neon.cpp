// NEON activation quantizers: Q8_0, Q8_1, Q8_K. They produce blocks byte-identical to the __ref
// twins (quant/symmetric_i8.h) for every input, NaN and infinities included:
// - max|x| with fmaxnm, which returns the number when the other operand is a quiet NaN, as
//   std::fmax does (|x| of a NaN input is quiet: the inputs are never signalling NaNs here);
// - d = max / 127 and its reciprocal in scalar float32, the quotient x * (1/d) (or x / d when 1/d
//   overflows) in float32, as the reference does;
// - the clamp fminnm(fmaxnm(v, -127), 127) maps NaN to -127 like std::fmin(127, std::fmax(-127, v));
// - fcvtas rounds to nearest with ties away from zero, which is std::round, independent of FPCR;
// - fp16 fields are narrowed with fcvtn (round to nearest-even under the default FPCR), equal to
//   fp32_to_fp16 for every non-NaN value (d and s are never NaN).
#include <arm_neon.h>

#include <cstdint>

#include "kernels/arm/arm_kernels.h"
#include "kernels/arm/neon_helpers.h"
#include "quant/blocks.h"

namespace ple::kernels {
namespace {

// Four quotients, clamped to [-127, 127] (NaN -> -127) and rounded half away from zero.
int32x4_t quantize4(const float* x, float32x4_t factor, bool divide) {
  const float32x4_t xv = vld1q_f32(x);
  float32x4_t v = divide ? vdivq_f32(xv, factor) : vmulq_f32(xv, factor);
  v = vminnmq_f32(vmaxnmq_f32(v, vdupq_n_f32(-127.0f)), vdupq_n_f32(127.0f));
  return vcvtaq_s32_f32(v);
}

// Quantizes len (a multiple of 16) floats to q; returns d and writes the sum of each 16 quants.
float quantize_block(const float* x, int len, int8_t* q, int32_t* sums16) {
  float32x4_t m = vdupq_n_f32(0.0f);
  for (int i = 0; i < len; i += 4) m = vmaxnmq_f32(m, vabsq_f32(vld1q_f32(x + i)));
  const float d = vmaxnmvq_f32(m) / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const bool divide = is_inf(id);
  const float32x4_t factor = vdupq_n_f32(divide ? d : id);
  for (int i = 0; i < len; i += 16) {
    const int32x4_t i0 = quantize4(x + i, factor, divide), i1 = quantize4(x + i + 4, factor, divide);
    const int32x4_t i2 = quantize4(x + i + 8, factor, divide), i3 = quantize4(x + i + 12, factor, divide);
    // Values are within [-127, 127]: the saturating narrows are exact.
    const int16x8_t h0 = vcombine_s16(vqmovn_s32(i0), vqmovn_s32(i1));
    const int16x8_t h1 = vcombine_s16(vqmovn_s32(i2), vqmovn_s32(i3));
    vst1q_s8(q + i, vcombine_s8(vqmovn_s16(h0), vqmovn_s16(h1)));
    sums16[i / 16] = vaddvq_s32(vaddq_s32(vaddq_s32(i0, i1), vaddq_s32(i2, i3)));
  }
  return d;
}

}  // namespace

void quantize_row_q8_0__neon(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ8_0*>(y);
  for (int64_t b = 0; b < n / kQK; ++b) {
    int32_t sums[2];
    blocks[b].d = float_to_half(quantize_block(x + b * kQK, kQK, blocks[b].qs, sums));
  }
}

void quantize_row_q8_1__neon(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ8_1*>(y);
  for (int64_t b = 0; b < n / kQK; ++b) {
    int32_t sums[2];
    const float d = quantize_block(x + b * kQK, kQK, blocks[b].qs, sums);
    blocks[b].d = float_to_half(d);
    blocks[b].s = float_to_half(d * static_cast<float>(sums[0] + sums[1]));
  }
}

void quantize_row_q8_k__neon(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ8_K*>(y);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int32_t sums[kQK_K / 16];
    blocks[b].d = quantize_block(x + b * kQK_K, kQK_K, blocks[b].qs, sums);
    for (int j = 0; j < kQK_K / 16; ++j) blocks[b].bsums[j] = static_cast<int16_t>(sums[j]);
  }
}

}  // namespace ple::kernels
