// NEON attention kernels over the KV cache: the F16 dot and axpy, grouped-query scores and values
// over F16 rows, the Q8_0 axpy (each axpy equal to its __ref twin bit for bit; qdot_float_arm.h).
#include "kernels/arm/arm_kernels.h"
#include "kernels/arm/qdot_float_arm.h"
#include "kernels/kernel_table.h"

namespace ple::kernels {

float dot_f16_f32__neon(int64_t n, const uint16_t* x, const float* y) { return dot(n, F16Weights{x}, y); }

void axpy_f16__neon(int64_t n, float a, const uint16_t* x, float* y) {
  const F16Weights w{x};
  const float32x4_t va = vdupq_n_f32(a);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vaddq_f32(vld1q_f32(y + i), vmulq_f32(va, w.load4(i))));
  for (; i < n; ++i) y[i] = y[i] + a * w.load1(i);
}

// Grouped-query attention over F16 rows (kernel_table.h: AttendScoresF16Fn / AttendValuesF16Fn),
// each output equal bit for bit to the per-position dot_f16_f32 / axpy_f16 above: a cached row is
// converted to floats once for all n_q heads that share it instead of once per head.
void attend_scores_f16__neon(int64_t n_rows, int64_t hd, const uint16_t* k, size_t row_stride, const float* q,
                             size_t q_stride, int64_t n_q, float scale, float* scores, size_t scores_stride) {
  // The row as floats once; the F32 dot over them runs the F16 dot's operations on the same values.
  alignas(16) float row[kMaxAttendHeadDim];
  for (int64_t p = 0; p < n_rows; ++p) {
    const F16Weights kp{k + static_cast<size_t>(p) * row_stride};
    int64_t i = 0;
    for (; i + 4 <= hd; i += 4) vst1q_f32(row + i, kp.load4(i));
    for (; i < hd; ++i) row[i] = kp.load1(i);
    for (int64_t j = 0; j < n_q; ++j) {
      scores[static_cast<size_t>(j) * scores_stride + static_cast<size_t>(p)] =
          dot(hd, F32Weights{row}, q + static_cast<size_t>(j) * q_stride) * scale;
    }
  }
}

void attend_values_f16__neon(int64_t n_rows, int64_t hd, const uint16_t* v, size_t row_stride, const float* s,
                             size_t s_stride, int64_t n_q, float* out, size_t out_stride) {
  // Eight outputs of up to eight heads stay in registers while every position passes; y + a * x
  // per position in order, multiply and add separate, as axpy_f16.
  constexpr int64_t kHeads = 8;
  for (int64_t j0 = 0; j0 < n_q; j0 += kHeads) {
    const int64_t nj = n_q - j0 < kHeads ? n_q - j0 : kHeads;
    const auto out_row = [&](int64_t j) { return out + static_cast<size_t>(j0 + j) * out_stride; };
    const auto weight = [&](int64_t j, int64_t p) { return s[static_cast<size_t>(j0 + j) * s_stride + static_cast<size_t>(p)]; };
    int64_t i = 0;
    for (; i + 8 <= hd; i += 8) {
      float32x4_t lo[kHeads], hi[kHeads];
      for (int64_t j = 0; j < nj; ++j) {
        lo[j] = vld1q_f32(out_row(j) + i);
        hi[j] = vld1q_f32(out_row(j) + i + 4);
      }
      for (int64_t p = 0; p < n_rows; ++p) {
        const F16Weights vp{v + static_cast<size_t>(p) * row_stride};
        const float32x4_t x_lo = vp.load4(i), x_hi = vp.load4(i + 4);
        for (int64_t j = 0; j < nj; ++j) {
          const float32x4_t a = vdupq_n_f32(weight(j, p));
          lo[j] = vaddq_f32(lo[j], vmulq_f32(a, x_lo));
          hi[j] = vaddq_f32(hi[j], vmulq_f32(a, x_hi));
        }
      }
      for (int64_t j = 0; j < nj; ++j) {
        vst1q_f32(out_row(j) + i, lo[j]);
        vst1q_f32(out_row(j) + i + 4, hi[j]);
      }
    }
    for (; i < hd; ++i) {
      for (int64_t j = 0; j < nj; ++j) {
        float y = out_row(j)[i];
        for (int64_t p = 0; p < n_rows; ++p) y = y + weight(j, p) * half_to_float(v[static_cast<size_t>(p) * row_stride + i]);
        out_row(j)[i] = y;
      }
    }
  }
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
