// The NEON float dot core: F32, F16 and BF16 weights against F32 activations, and the attention kernels:
// the F16 KV-cache dot and axpy, the Q8_0 KV-cache axpy. F16 widens with fcvtl (exact, baseline
// AArch64), BF16 with a shift, int8 with two sign-extending widenings and an exact conversion.
//
// Dots accumulate in float32 with fmla in 8 x 4 lanes (the __ref twins accumulate in double), as
// the AVX2 kernels do in 4 x 8: each lane rounds once per element it sums, and the lanes meet in
// a short tree, within the bound |dot - ref| <= (n / 32 + 16) * 2^-24 * sum |x_i y_i| checked by
// the tests. The axpys multiply and add separately (this file is built with -ffp-contract=off)
// and so equal their __ref twins bit for bit.
//
// Included by qdot_float_neon.cpp (the weight dots) and attention_neon.cpp; internal linkage.
#pragma once
#include <arm_neon.h>

#include <cstdint>

#include "kernels/arm/neon_helpers.h"
#include "quant/blocks.h"

namespace ple::kernels {
namespace {

// Four weights at element i as floats, and element i alone for the tail.
struct F32Weights {
  const float* p;
  float32x4_t load4(int64_t i) const { return vld1q_f32(p + i); }
  float load1(int64_t i) const { return p[i]; }
};
struct F16Weights {
  const uint16_t* p;
  float32x4_t load4(int64_t i) const { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p + i))); }
  float load1(int64_t i) const { return half_to_float(p[i]); }
};
struct BF16Weights {
  const uint16_t* p;
  float32x4_t load4(int64_t i) const { return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p + i), 16)); }
  float load1(int64_t i) const { return bf16_to_float(p[i]); }
};

template <class Weights>
float dot(int64_t n, Weights w, const float* y) {
  float32x4_t acc[8];
  for (float32x4_t& v : acc) v = vdupq_n_f32(0.0f);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int k = 0; k < 8; ++k) acc[k] = vfmaq_f32(acc[k], w.load4(i + 4 * k), vld1q_f32(y + i + 4 * k));
  }
  for (; i + 4 <= n; i += 4) acc[0] = vfmaq_f32(acc[0], w.load4(i), vld1q_f32(y + i));
  float tail = 0.0f;
  for (; i < n; ++i) tail += w.load1(i) * y[i];
  const float32x4_t s01 = vaddq_f32(acc[0], acc[1]), s23 = vaddq_f32(acc[2], acc[3]);
  const float32x4_t s45 = vaddq_f32(acc[4], acc[5]), s67 = vaddq_f32(acc[6], acc[7]);
  return vaddvq_f32(vaddq_f32(vaddq_f32(s01, s23), vaddq_f32(s45, s67))) + tail;
}

}  // namespace

}  // namespace ple::kernels
