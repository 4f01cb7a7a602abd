// NEON activations (kernel_table.h, SoftmaxFn / SiluMulFn), four floats at a time with a vector
// exp: the operations of the x86 family (kernels/x86/activations_x86.h), so within the same few
// ulps of the __ref twins' std::exp.
#include <algorithm>
#include <cmath>

#include <arm_neon.h>

#include "kernels/arm/arm_kernels.h"
#include "kernels/exp_polynomial.h"

namespace ple::kernels {
namespace {

// e^x in each lane (exp_polynomial.h).
inline float32x4_t exp4(float32x4_t x) {
  using namespace exp_polynomial;
  const float32x4_t hi = vdupq_n_f32(kMaxArg);
  const float32x4_t lo = vdupq_n_f32(kMinArg);
  const float32x4_t xc = vminq_f32(vmaxq_f32(x, lo), hi);
  const float32x4_t n = vrndnq_f32(vmulq_f32(xc, vdupq_n_f32(kLog2e)));
  float32x4_t r = vfmsq_f32(xc, n, vdupq_n_f32(kLn2Hi));
  r = vfmsq_f32(r, n, vdupq_n_f32(kLn2Lo));
  float32x4_t p = vdupq_n_f32(kTaylor[0]);
  for (int k = 1; k < kTerms; ++k) p = vfmaq_f32(vdupq_n_f32(kTaylor[k]), p, r);
  // 2^n as two powers of two.
  const int32x4_t ni = vcvtq_s32_f32(n);
  const int32x4_t half = vshrq_n_s32(ni, 1);
  const int32x4_t rest = vsubq_s32(ni, half);
  const int32x4_t bias = vdupq_n_s32(127);
  const float32x4_t scale_half = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(half, bias), 23));
  const float32x4_t scale_rest = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(rest, bias), 23));
  float32x4_t y = vmulq_f32(vmulq_f32(p, scale_half), scale_rest);
  y = vbslq_f32(vcgtq_f32(x, hi), vdupq_n_f32(INFINITY), y);
  y = vbslq_f32(vcltq_f32(x, lo), vdupq_n_f32(0.0f), y);
  return vbslq_f32(vceqq_f32(x, x), y, x);  // NaN stays NaN
}

inline float32x4_t load_partial(const float* x, int64_t n, float fill) {
  float buf[4];
  for (int64_t i = 0; i < 4; ++i) buf[i] = i < n ? x[i] : fill;
  return vld1q_f32(buf);
}
inline void store_partial(float* x, int64_t n, float32x4_t v) {
  float buf[4];
  vst1q_f32(buf, v);
  for (int64_t i = 0; i < n; ++i) x[i] = buf[i];
}

}  // namespace

void softmax__neon(float* x, int64_t n) {
  const int64_t full = n / 4 * 4;
  const int64_t tail = n - full;
  float32x4_t vmax = vdupq_n_f32(-INFINITY);
  for (int64_t i = 0; i < full; i += 4) vmax = vmaxq_f32(vmax, vld1q_f32(x + i));
  if (tail) vmax = vmaxq_f32(vmax, load_partial(x + full, tail, -INFINITY));
  const float max_value = vmaxvq_f32(vmax);
  // The sum in double, lanes in a fixed order: the same for any alignment or thread split.
  const float32x4_t m = vdupq_n_f32(max_value);
  float64x2_t sum_lo = vdupq_n_f64(0.0), sum_hi = vdupq_n_f64(0.0);
  auto exp_and_sum = [&](float32x4_t v) {
    const float32x4_t e = exp4(vsubq_f32(v, m));
    sum_lo = vaddq_f64(sum_lo, vcvt_f64_f32(vget_low_f32(e)));
    sum_hi = vaddq_f64(sum_hi, vcvt_high_f64_f32(e));
    return e;
  };
  for (int64_t i = 0; i < full; i += 4) vst1q_f32(x + i, exp_and_sum(vld1q_f32(x + i)));
  if (tail) store_partial(x + full, tail, exp_and_sum(load_partial(x + full, tail, -INFINITY)));
  const double sum = (vgetq_lane_f64(sum_lo, 0) + vgetq_lane_f64(sum_lo, 1)) + (vgetq_lane_f64(sum_hi, 0) + vgetq_lane_f64(sum_hi, 1));
  const float32x4_t inv = vdupq_n_f32(static_cast<float>(1.0 / sum));
  for (int64_t i = 0; i < full; i += 4) vst1q_f32(x + i, vmulq_f32(vld1q_f32(x + i), inv));
  if (tail) store_partial(x + full, tail, vmulq_f32(load_partial(x + full, tail, 0.0f), inv));
}

void silu_mul__neon(float* gate, const float* up, int64_t n) {
  const float32x4_t one = vdupq_n_f32(1.0f);
  auto silu_times = [&](float32x4_t g, float32x4_t u) { return vmulq_f32(vdivq_f32(g, vaddq_f32(one, exp4(vnegq_f32(g)))), u); };
  const int64_t full = n / 4 * 4;
  for (int64_t i = 0; i < full; i += 4) vst1q_f32(gate + i, silu_times(vld1q_f32(gate + i), vld1q_f32(up + i)));
  if (n > full) {
    store_partial(gate + full, n - full, silu_times(load_partial(gate + full, n - full, 0.0f), load_partial(up + full, n - full, 0.0f)));
  }
}

}  // namespace ple::kernels
