// Scalar reference kernels for the float types and the 32-element block formats
// (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1), the attention kernels and the activations. These define the
// results every SIMD path must reproduce.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "kernels/ref/ref_kernels.h"
#include "quant/symmetric_i8.h"
#include "quant/blocks.h"

namespace ple::kernels {
namespace {

// Unpacks the 32 quants of a 4/5-bit block: low nibbles are elements 0..15, high nibbles 16..31;
// for 5-bit blocks bit j of qh is the fifth bit of element j.
inline void unpack_nibbles(const uint8_t* qs, int q[kQK]) {
  for (int j = 0; j < kQK / 2; ++j) {
    q[j] = qs[j] & 0x0f;
    q[j + kQK / 2] = qs[j] >> 4;
  }
}
inline void add_fifth_bits(const uint8_t qh_bytes[4], int q[kQK]) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, sizeof qh);
  for (int j = 0; j < kQK; ++j) q[j] |= static_cast<int>((qh >> j) & 1u) << 4;
}

// Symmetric int8 quantization of one block of 32 (see quant/symmetric_i8.h). Returns the sum of the quants.
inline int quantize_block_q8(const float* x, float* d_out, int8_t qs[kQK]) {
  *d_out = quantize_symmetric_i8(x, kQK, qs);
  int sum = 0;
  for (int j = 0; j < kQK; ++j) sum += qs[j];
  return sum;
}

}  // namespace

void dequantize_row_f32__ref(const void* x, float* y, int64_t n) { std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float)); }

void dequantize_row_f16__ref(const void* x, float* y, int64_t n) {
  const auto* h = static_cast<const uint16_t*>(x);
  for (int64_t i = 0; i < n; ++i) y[i] = fp16_to_fp32(h[i]);
}

void dequantize_row_bf16__ref(const void* x, float* y, int64_t n) {
  const auto* b = static_cast<const uint16_t*>(x);
  for (int64_t i = 0; i < n; ++i) y[i] = bf16_to_fp32(b[i]);
}

void dequantize_row_q4_0__ref(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_0*>(x);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float d = fp16_to_fp32(blocks[b].d);
    int q[kQK];
    unpack_nibbles(blocks[b].qs, q);
    for (int j = 0; j < kQK; ++j) y[b * kQK + j] = d * static_cast<float>(q[j] - 8);
  }
}

void dequantize_row_q4_1__ref(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_1*>(x);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float d = fp16_to_fp32(blocks[b].d);
    const float m = fp16_to_fp32(blocks[b].m);
    int q[kQK];
    unpack_nibbles(blocks[b].qs, q);
    for (int j = 0; j < kQK; ++j) y[b * kQK + j] = d * static_cast<float>(q[j]) + m;
  }
}

void dequantize_row_q5_0__ref(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_0*>(x);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float d = fp16_to_fp32(blocks[b].d);
    int q[kQK];
    unpack_nibbles(blocks[b].qs, q);
    add_fifth_bits(blocks[b].qh, q);
    for (int j = 0; j < kQK; ++j) y[b * kQK + j] = d * static_cast<float>(q[j] - 16);
  }
}

void dequantize_row_q5_1__ref(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_1*>(x);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float d = fp16_to_fp32(blocks[b].d);
    const float m = fp16_to_fp32(blocks[b].m);
    int q[kQK];
    unpack_nibbles(blocks[b].qs, q);
    add_fifth_bits(blocks[b].qh, q);
    for (int j = 0; j < kQK; ++j) y[b * kQK + j] = d * static_cast<float>(q[j]) + m;
  }
}

void dequantize_row_q8_0__ref(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_0*>(x);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float d = fp16_to_fp32(blocks[b].d);
    for (int j = 0; j < kQK; ++j) y[b * kQK + j] = d * static_cast<float>(blocks[b].qs[j]);
  }
}

void dequantize_row_q8_1__ref(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_1*>(x);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float d = fp16_to_fp32(blocks[b].d);
    for (int j = 0; j < kQK; ++j) y[b * kQK + j] = d * static_cast<float>(blocks[b].qs[j]);
  }
}

void quantize_row_q8_0__ref(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ8_0*>(y);
  for (int64_t b = 0; b < n / kQK; ++b) {
    float d;
    quantize_block_q8(x + b * kQK, &d, blocks[b].qs);
    blocks[b].d = fp32_to_fp16(d);
  }
}

void quantize_row_q8_1__ref(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ8_1*>(y);
  for (int64_t b = 0; b < n / kQK; ++b) {
    float d;
    const int sum = quantize_block_q8(x + b * kQK, &d, blocks[b].qs);
    blocks[b].d = fp32_to_fp16(d);
    blocks[b].s = fp32_to_fp16(d * static_cast<float>(sum));
  }
}

float qdot_f32_f32__ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const float*>(w);
  const auto* y = static_cast<const float*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * y[i];
  return static_cast<float>(sum);
}

float qdot_f16_f32__ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const float*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(fp16_to_fp32(x[i])) * y[i];
  return static_cast<float>(sum);
}

float dot_f16_f32__ref(int64_t n, const uint16_t* x, const float* y) { return qdot_f16_f32__ref(n, x, y); }

void axpy_f16__ref(int64_t n, float a, const uint16_t* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = y[i] + a * fp16_to_fp32(x[i]);
}

void softmax__ref(float* x, int64_t n) {
  float max_value = x[0];
  for (int64_t i = 1; i < n; ++i) max_value = std::max(max_value, x[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max_value);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void silu_mul__ref(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void axpy_q8_0__ref(int64_t n, float a, const void* x, float* y) {
  const auto* blocks = static_cast<const BlockQ8_0*>(x);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float scale = a * fp16_to_fp32(blocks[b].d);
    float* yb = y + b * kQK;
    for (int j = 0; j < kQK; ++j) yb[j] = yb[j] + scale * static_cast<float>(blocks[b].qs[j]);
  }
}

float qdot_bf16_f32__ref(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const float*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(bf16_to_fp32(x[i])) * y[i];
  return static_cast<float>(sum);
}

// Block dots: integer sum of products within a block (exact), scaled once per block in float.
float qdot_q4_0_q8_0__ref(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const BlockQ4_0*>(w);
  const auto* ab = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    int q[kQK];
    unpack_nibbles(wb[b].qs, q);
    int isum = 0;
    for (int j = 0; j < kQK; ++j) isum += (q[j] - 8) * ab[b].qs[j];
    sum += fp16_to_fp32(wb[b].d) * fp16_to_fp32(ab[b].d) * static_cast<float>(isum);
  }
  return sum;
}

float qdot_q5_0_q8_0__ref(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const BlockQ5_0*>(w);
  const auto* ab = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    int q[kQK];
    unpack_nibbles(wb[b].qs, q);
    add_fifth_bits(wb[b].qh, q);
    int isum = 0;
    for (int j = 0; j < kQK; ++j) isum += (q[j] - 16) * ab[b].qs[j];
    sum += fp16_to_fp32(wb[b].d) * fp16_to_fp32(ab[b].d) * static_cast<float>(isum);
  }
  return sum;
}

float qdot_q8_0_q8_0__ref(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const BlockQ8_0*>(w);
  const auto* ab = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    int isum = 0;
    for (int j = 0; j < kQK; ++j) isum += wb[b].qs[j] * ab[b].qs[j];
    sum += fp16_to_fp32(wb[b].d) * fp16_to_fp32(ab[b].d) * static_cast<float>(isum);
  }
  return sum;
}

// (d*q + m) . (da*qa) = d*da*sum(q*qa) + m * (da*sum(qa)) and the activation block stores
// s = da*sum(qa), so the minimum costs one multiply per block.
float qdot_q4_1_q8_1__ref(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const BlockQ4_1*>(w);
  const auto* ab = static_cast<const BlockQ8_1*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    int q[kQK];
    unpack_nibbles(wb[b].qs, q);
    int isum = 0;
    for (int j = 0; j < kQK; ++j) isum += q[j] * ab[b].qs[j];
    sum += fp16_to_fp32(wb[b].d) * fp16_to_fp32(ab[b].d) * static_cast<float>(isum) +
           fp16_to_fp32(wb[b].m) * fp16_to_fp32(ab[b].s);
  }
  return sum;
}

float qdot_q5_1_q8_1__ref(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const BlockQ5_1*>(w);
  const auto* ab = static_cast<const BlockQ8_1*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    int q[kQK];
    unpack_nibbles(wb[b].qs, q);
    add_fifth_bits(wb[b].qh, q);
    int isum = 0;
    for (int j = 0; j < kQK; ++j) isum += q[j] * ab[b].qs[j];
    sum += fp16_to_fp32(wb[b].d) * fp16_to_fp32(ab[b].d) * static_cast<float>(isum) +
           fp16_to_fp32(wb[b].m) * fp16_to_fp32(ab[b].s);
  }
  return sum;
}

namespace {
void tile2x2_from_dots(float (*dot)(int64_t, const void*, const void*), int64_t n, const void* w, size_t w_stride,
                       const void* a, size_t a_stride, float out[4]) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  for (int r = 0; r < 2; ++r) {
    for (int t = 0; t < 2; ++t) out[2 * r + t] = dot(n, wb + r * w_stride, ab + t * a_stride);
  }
}
}  // namespace

void qtile_q4_0_q8_0_2x2__ref(int64_t n, const void* w, size_t w_stride, const void* a, size_t a_stride, float out[4]) {
  tile2x2_from_dots(qdot_q4_0_q8_0__ref, n, w, w_stride, a, a_stride, out);
}

void qtile_q8_0_q8_0_2x2__ref(int64_t n, const void* w, size_t w_stride, const void* a, size_t a_stride, float out[4]) {
  tile2x2_from_dots(qdot_q8_0_q8_0__ref, n, w, w_stride, a, a_stride, out);
}

}  // namespace ple::kernels
