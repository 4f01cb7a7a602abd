// NEON float dots: F32, F16 and BF16 weights against F32 activations, and the attention kernels:
// the F16 KV-cache dot and axpy, the Q8_0 KV-cache axpy. F16 widens with fcvtl (exact, baseline
// AArch64), BF16 with a shift, int8 with two sign-extending widenings and an exact conversion.
//
// Dots accumulate in float32 with fmla in 8 x 4 lanes (the __ref twins accumulate in double), as
// the AVX2 kernels do in 4 x 8: each lane rounds once per element it sums, and the lanes meet in
// a short tree, within the bound |dot - ref| <= (n / 32 + 16) * 2^-24 * sum |x_i y_i| checked by
// the tests. The axpys multiply and add separately (this file is built with -ffp-contract=off)
// and so equal their __ref twins bit for bit.
#include <arm_neon.h>

#include <cstdint>

#include "kernels/arm/arm_kernels.h"
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

float qdot_f32_f32__neon(int64_t n, const void* w, const void* a) {
  return dot(n, F32Weights{static_cast<const float*>(w)}, static_cast<const float*>(a));
}

float qdot_f16_f32__neon(int64_t n, const void* w, const void* a) {
  return dot(n, F16Weights{static_cast<const uint16_t*>(w)}, static_cast<const float*>(a));
}

float qdot_bf16_f32__neon(int64_t n, const void* w, const void* a) {
  return dot(n, BF16Weights{static_cast<const uint16_t*>(w)}, static_cast<const float*>(a));
}

float dot_f16_f32__neon(int64_t n, const uint16_t* x, const float* y) { return dot(n, F16Weights{x}, y); }

void axpy_f16__neon(int64_t n, float a, const uint16_t* x, float* y) {
  const F16Weights w{x};
  const float32x4_t va = vdupq_n_f32(a);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vaddq_f32(vld1q_f32(y + i), vmulq_f32(va, w.load4(i))));
  for (; i < n; ++i) y[i] = y[i] + a * w.load1(i);
}

// y += a * x for Q8_0 blocks x: per block scale = a * d (rounded once, as the reference), then
// y + scale * q element by element.
void axpy_q8_0__neon(int64_t n, float a, const void* x, float* y) {
  const auto* blocks = static_cast<const BlockQ8_0*>(x);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float32x4_t scale = vdupq_n_f32(a * half_to_float(blocks[b].d));
    float* yb = y + b * kQK;
    for (int j = 0; j < kQK; j += 8) {
      const int16x8_t q = vmovl_s8(vld1_s8(blocks[b].qs + j));
      const float32x4_t lo = vcvtq_f32_s32(vmovl_s16(vget_low_s16(q)));
      const float32x4_t hi = vcvtq_f32_s32(vmovl_high_s16(q));
      vst1q_f32(yb + j, vaddq_f32(vld1q_f32(yb + j), vmulq_f32(scale, lo)));
      vst1q_f32(yb + j + 4, vaddq_f32(vld1q_f32(yb + j + 4), vmulq_f32(scale, hi)));
    }
  }
}

}  // namespace ple::kernels
