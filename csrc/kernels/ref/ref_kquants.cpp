// Scalar reference kernels for the k-quants (256-element super-blocks): Q2_K, Q3_K, Q4_K, Q5_K,
// Q6_K as weights and Q8_K as their activation format. These are the specification every SIMD
// path must reproduce.
//
// Each weight format is first unpacked into its integer quants in element order (q[i] belongs to
// element i of the super-block) and its integer sub-block scales; dequantize and dot share those
// unpackers, so the element order is written down once per format. Dequantization performs the
// same float32 operations in the same order as gguf-py's numpy code (and ggml's scalar code), so
// with -ffp-contract=off the results are bit-identical.
//
// Dots: per sub-block an exact integer sum of products, weighted by the integer sub-block scale
// and summed exactly over the super-block; the minimum terms come from the activation's bsums.
// The super-block then contributes (d_w * d_a) * isum - (dmin_w * d_a) * msum in float32.
#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "kernels/ref/ref_kernels.h"
#include "quant/symmetric_i8.h"
#include "quant/blocks.h"

namespace ple::kernels {
namespace {

constexpr int kHalf = kQK_K / 2;  // Q2_K, Q3_K and Q6_K pack each 128-element half separately

// Q2_K: in half h, byte l of qs[32h .. 32h+31] holds elements 128h + 32s + l at bits 2s..2s+1
// (s = 0..3). Quants 0..3.
inline void unpack_q2_k(const BlockQ2_K& b, int8_t q[kQK_K]) {
  for (int h = 0; h < 2; ++h) {
    for (int s = 0; s < 4; ++s) {
      for (int l = 0; l < 32; ++l) q[kHalf * h + 32 * s + l] = static_cast<int8_t>((b.qs[32 * h + l] >> (2 * s)) & 3);
    }
  }
}

// Q3_K: two low bits as in Q2_K; the high bit of element e is bit e/32 of hmask[e % 32], and a
// clear high bit subtracts 4. Quants -4..3.
inline void unpack_q3_k(const BlockQ3_K& b, int8_t q[kQK_K]) {
  for (int h = 0; h < 2; ++h) {
    for (int s = 0; s < 4; ++s) {
      for (int l = 0; l < 32; ++l) {
        const int e = kHalf * h + 32 * s + l;
        const int low = (b.qs[32 * h + l] >> (2 * s)) & 3;
        const int high = (b.hmask[l] >> (e / 32)) & 1;
        q[e] = static_cast<int8_t>(low - (high ? 0 : 4));
      }
    }
  }
}

// Q3_K sub-block scales (16, signed 6-bit, stored +32): low nibble of scale k is the low (k < 8)
// or high (k >= 8) nibble of byte k % 8; its two high bits are bits 2*(k/4) of byte 8 + k % 4.
inline void unpack_scales_q3_k(const uint8_t packed[12], int sc[16]) {
  for (int k = 0; k < 16; ++k) {
    const int low = (packed[k % 8] >> (k < 8 ? 0 : 4)) & 0x0f;
    const int high = (packed[8 + k % 4] >> (2 * (k / 4))) & 3;
    sc[k] = (low | (high << 4)) - 32;
  }
}

// Q4_K / Q5_K: 8 six-bit scales and mins in 12 bytes. For j < 4: scale = bytes[j] & 63,
// min = bytes[j+4] & 63. For j >= 4: the low four bits are the low (scale) or high (min) nibble
// of bytes[j+4], the two high bits are the top bits of bytes[j-4] (scale) or bytes[j] (min).
inline void unpack_scales_mins_k4(const uint8_t packed[kKScaleBytes], int sc[8], int m[8]) {
  for (int j = 0; j < 4; ++j) {
    sc[j] = packed[j] & 63;
    m[j] = packed[j + 4] & 63;
  }
  for (int j = 4; j < 8; ++j) {
    sc[j] = (packed[j + 4] & 0x0f) | ((packed[j - 4] >> 6) << 4);
    m[j] = (packed[j + 4] >> 4) | ((packed[j] >> 6) << 4);
  }
}

// Q4_K: in chunk c (64 elements), byte l of qs[32c .. 32c+31] holds element 64c + l in its low
// nibble and element 64c + 32 + l in its high nibble. Quants 0..15.
inline void unpack_q4_k_nibbles(const uint8_t qs[kQK_K / 2], int8_t q[kQK_K]) {
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) {
      q[64 * c + l] = static_cast<int8_t>(qs[32 * c + l] & 0x0f);
      q[64 * c + 32 + l] = static_cast<int8_t>(qs[32 * c + l] >> 4);
    }
  }
}

// Q5_K: Q4_K nibbles plus a fifth bit: bit e/32 of qh[e % 32]. Quants 0..31.
inline void unpack_q5_k(const BlockQ5_K& b, int8_t q[kQK_K]) {
  unpack_q4_k_nibbles(b.qs, q);
  for (int e = 0; e < kQK_K; ++e) q[e] = static_cast<int8_t>(q[e] | (((b.qh[e % 32] >> (e / 32)) & 1) << 4));
}

// Q6_K: in half h, byte l of ql[64h .. 64h+63] holds element 128h + l (low nibble) and
// 128h + 64 + l (high nibble); byte l of qh[32h .. 32h+31] holds the two high bits of element
// 128h + 32s + l at bits 2s..2s+1. Quants are stored +32: -32..31.
inline void unpack_q6_k(const BlockQ6_K& b, int8_t q[kQK_K]) {
  for (int h = 0; h < 2; ++h) {
    for (int l = 0; l < 64; ++l) {
      q[kHalf * h + l] = static_cast<int8_t>(b.ql[64 * h + l] & 0x0f);
      q[kHalf * h + 64 + l] = static_cast<int8_t>(b.ql[64 * h + l] >> 4);
    }
    for (int s = 0; s < 4; ++s) {
      for (int l = 0; l < 32; ++l) {
        int8_t& v = q[kHalf * h + 32 * s + l];
        v = static_cast<int8_t>((v | (((b.qh[32 * h + l] >> (2 * s)) & 3) << 4)) - 32);
      }
    }
  }
}

// Exact integer dot of len quants (|sum| < 2^31 for every use here).
inline int32_t dot_i8(const int8_t* q, const int8_t* a, int len) {
  int32_t sum = 0;
  for (int i = 0; i < len; ++i) sum += q[i] * a[i];
  return sum;
}

}  // namespace

// ---- dequantization: y = (d * scale) * q - (dmin * min), float32, in gguf-py's order ----

void dequantize_row_q2_k__ref(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ2_K*>(x);
  for (int64_t b = 0; b < n / kQK_K; ++b, y += kQK_K) {
    const float d = fp16_to_fp32(blocks[b].d);
    const float dmin = fp16_to_fp32(blocks[b].dmin);
    int8_t q[kQK_K];
    unpack_q2_k(blocks[b], q);
    for (int j = 0; j < 16; ++j) {
      const float dl = d * static_cast<float>(blocks[b].scales[j] & 0x0f);
      const float ml = dmin * static_cast<float>(blocks[b].scales[j] >> 4);
      for (int i = 16 * j; i < 16 * j + 16; ++i) y[i] = dl * static_cast<float>(q[i]) - ml;
    }
  }
}

void dequantize_row_q3_k__ref(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ3_K*>(x);
  for (int64_t b = 0; b < n / kQK_K; ++b, y += kQK_K) {
    const float d = fp16_to_fp32(blocks[b].d);
    int sc[16];
    unpack_scales_q3_k(blocks[b].scales, sc);
    int8_t q[kQK_K];
    unpack_q3_k(blocks[b], q);
    for (int j = 0; j < 16; ++j) {
      const float dl = d * static_cast<float>(sc[j]);
      for (int i = 16 * j; i < 16 * j + 16; ++i) y[i] = dl * static_cast<float>(q[i]);
    }
  }
}

namespace {
// Q4_K and Q5_K differ only in their quants.
inline void dequantize_k4(uint16_t d16, uint16_t dmin16, const uint8_t scales[kKScaleBytes], const int8_t q[kQK_K],
                          float* y) {
  const float d = fp16_to_fp32(d16);
  const float dmin = fp16_to_fp32(dmin16);
  int sc[8], m[8];
  unpack_scales_mins_k4(scales, sc, m);
  for (int j = 0; j < 8; ++j) {
    const float dl = d * static_cast<float>(sc[j]);
    const float ml = dmin * static_cast<float>(m[j]);
    for (int i = 32 * j; i < 32 * j + 32; ++i) y[i] = dl * static_cast<float>(q[i]) - ml;
  }
}
}  // namespace

void dequantize_row_q4_k__ref(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_K*>(x);
  for (int64_t b = 0; b < n / kQK_K; ++b, y += kQK_K) {
    int8_t q[kQK_K];
    unpack_q4_k_nibbles(blocks[b].qs, q);
    dequantize_k4(blocks[b].d, blocks[b].dmin, blocks[b].scales, q, y);
  }
}

void dequantize_row_q5_k__ref(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_K*>(x);
  for (int64_t b = 0; b < n / kQK_K; ++b, y += kQK_K) {
    int8_t q[kQK_K];
    unpack_q5_k(blocks[b], q);
    dequantize_k4(blocks[b].d, blocks[b].dmin, blocks[b].scales, q, y);
  }
}

void dequantize_row_q6_k__ref(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ6_K*>(x);
  for (int64_t b = 0; b < n / kQK_K; ++b, y += kQK_K) {
    const float d = fp16_to_fp32(blocks[b].d);
    int8_t q[kQK_K];
    unpack_q6_k(blocks[b], q);
    for (int j = 0; j < 16; ++j) {
      const float dl = d * static_cast<float>(blocks[b].scales[j]);
      for (int i = 16 * j; i < 16 * j + 16; ++i) y[i] = dl * static_cast<float>(q[i]);
    }
  }
}

void dequantize_row_q8_k__ref(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_K*>(x);
  for (int64_t b = 0; b < n / kQK_K; ++b, y += kQK_K) {
    for (int i = 0; i < kQK_K; ++i) y[i] = blocks[b].d * static_cast<float>(blocks[b].qs[i]);
  }
}

// Q8_K uses the same rule as Q8_0 (d = max|x|/127, round half away from zero; see quant/symmetric_i8.h), not
// ggml's signed-max variant (scale -127/max with the sign of the largest element), so every
// activation format quantizes alike. d stays float32; bsums[j] = sum of qs[16j .. 16j+15].
void quantize_row_q8_k__ref(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ8_K*>(y);
  for (int64_t b = 0; b < n / kQK_K; ++b, x += kQK_K) {
    blocks[b].d = quantize_symmetric_i8(x, kQK_K, blocks[b].qs);
    for (int j = 0; j < kQK_K / 16; ++j) {
      int sum = 0;
      for (int i = 16 * j; i < 16 * j + 16; ++i) sum += blocks[b].qs[i];
      blocks[b].bsums[j] = static_cast<int16_t>(sum);
    }
  }
}

// ---- dots against Q8_K ----

float qdot_q2_k_q8_k__ref(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const BlockQ2_K*>(w);
  const auto* ab = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t q[kQK_K];
    unpack_q2_k(wb[b], q);
    int32_t isum = 0, msum = 0;
    for (int j = 0; j < 16; ++j) {
      isum += (wb[b].scales[j] & 0x0f) * dot_i8(q + 16 * j, ab[b].qs + 16 * j, 16);
      msum += (wb[b].scales[j] >> 4) * ab[b].bsums[j];
    }
    const float d = fp16_to_fp32(wb[b].d) * ab[b].d;
    const float dmin = fp16_to_fp32(wb[b].dmin) * ab[b].d;
    sum += d * static_cast<float>(isum) - dmin * static_cast<float>(msum);
  }
  return sum;
}

float qdot_q3_k_q8_k__ref(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const BlockQ3_K*>(w);
  const auto* ab = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t q[kQK_K];
    unpack_q3_k(wb[b], q);
    int sc[16];
    unpack_scales_q3_k(wb[b].scales, sc);
    int32_t isum = 0;
    for (int j = 0; j < 16; ++j) isum += sc[j] * dot_i8(q + 16 * j, ab[b].qs + 16 * j, 16);
    sum += fp16_to_fp32(wb[b].d) * ab[b].d * static_cast<float>(isum);
  }
  return sum;
}

namespace {
// Q4_K / Q5_K super-block: 8 sub-blocks of 32; the min of sub-block j meets bsums[2j] + bsums[2j+1].
inline float dot_k4_block(uint16_t d16, uint16_t dmin16, const uint8_t scales[kKScaleBytes], const int8_t q[kQK_K],
                          const BlockQ8_K& a) {
  int sc[8], m[8];
  unpack_scales_mins_k4(scales, sc, m);
  int32_t isum = 0, msum = 0;
  for (int j = 0; j < 8; ++j) {
    isum += sc[j] * dot_i8(q + 32 * j, a.qs + 32 * j, 32);
    msum += m[j] * (a.bsums[2 * j] + a.bsums[2 * j + 1]);
  }
  const float d = fp16_to_fp32(d16) * a.d;
  const float dmin = fp16_to_fp32(dmin16) * a.d;
  return d * static_cast<float>(isum) - dmin * static_cast<float>(msum);
}
}  // namespace

float qdot_q4_k_q8_k__ref(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const BlockQ4_K*>(w);
  const auto* ab = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t q[kQK_K];
    unpack_q4_k_nibbles(wb[b].qs, q);
    sum += dot_k4_block(wb[b].d, wb[b].dmin, wb[b].scales, q, ab[b]);
  }
  return sum;
}

float qdot_q5_k_q8_k__ref(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const BlockQ5_K*>(w);
  const auto* ab = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t q[kQK_K];
    unpack_q5_k(wb[b], q);
    sum += dot_k4_block(wb[b].d, wb[b].dmin, wb[b].scales, q, ab[b]);
  }
  return sum;
}

float qdot_q6_k_q8_k__ref(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const BlockQ6_K*>(w);
  const auto* ab = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t q[kQK_K];
    unpack_q6_k(wb[b], q);
    int32_t isum = 0;
    for (int j = 0; j < 16; ++j) isum += wb[b].scales[j] * dot_i8(q + 16 * j, ab[b].qs + 16 * j, 16);
    sum += fp16_to_fp32(wb[b].d) * ab[b].d * static_cast<float>(isum);
  }
  return sum;
}

}  // namespace ple::kernels
