// NEON attention kernels over the KV cache: the F16 dot and axpy, the Q8_0 axpy (each axpy equal
// to its __ref twin bit for bit; qdot_float_arm.h).
#include "kernels/arm/arm_kernels.h"
#include "kernels/arm/qdot_float_arm.h"

namespace ple::kernels {

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
