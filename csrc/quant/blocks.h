// Quantized block layouts, byte-identical to GGUF tensor data. Half-precision fields are raw
// binary16 bits (convert with core/fp16.h). Element i of a block is reconstructed as described
// above each struct; the scalar twins in kernels/ref/ are the executable specification.
#pragma once
#include <cstdint>

namespace ple {

constexpr int kQK = 32;    // elements per block of the legacy formats
constexpr int kQK_K = 256;  // elements per super-block of the k-quants
constexpr int kKScaleBytes = 12;  // packed 6-bit scales and mins of Q4_K / Q5_K

// x[i] = d * (q[i] - 8), q a nibble: qs[j] low nibble is element j, high nibble element j+16.
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK / 2];
};
// x[i] = d * q[i] + m
struct BlockQ4_1 {
  uint16_t d, m;
  uint8_t qs[kQK / 2];
};
// x[i] = d * (q[i] - 16), q = nibble | (bit i of qh) << 4
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
struct BlockQ5_1 {
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
// x[i] = d * qs[i]
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK];
};
// Activation format paired with Q4_1/Q5_1: s = d * sum(qs), so the weight minimum folds in.
struct BlockQ8_1 {
  uint16_t d, s;
  int8_t qs[kQK];
};
// 16 sub-blocks of 16: scales[j] low nibble = scale, high nibble = min; x = d*sc*q - dmin*m, q 2 bits.
struct BlockQ2_K {
  uint8_t scales[kQK_K / 16];
  uint8_t qs[kQK_K / 4];
  uint16_t d, dmin;
};
// 16 sub-blocks of 16 with 6-bit signed scales (packed in 12 bytes); q = 2 low bits + hmask bit, minus 4 when the hmask bit is clear.
struct BlockQ3_K {
  uint8_t hmask[kQK_K / 8];
  uint8_t qs[kQK_K / 4];
  uint8_t scales[12];
  uint16_t d;
};
// 8 sub-blocks of 32, 6-bit scale and min each: x = d*sc*q - dmin*m, q a nibble.
struct BlockQ4_K {
  uint16_t d, dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qs[kQK_K / 2];
};
struct BlockQ5_K {
  uint16_t d, dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
// 16 sub-blocks of 16 with int8 scales: x = d * scales[j] * (q - 32), q = 4 low bits + 2 high bits.
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};
// Activation format of the k-quant dots: float scale, and bsums[j] = sum of qs[16j .. 16j+15].
struct BlockQ8_K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};

static_assert(sizeof(BlockQ4_0) == 18, "Q4_0 block must match GGUF");
static_assert(sizeof(BlockQ4_1) == 20, "Q4_1 block must match GGUF");
static_assert(sizeof(BlockQ5_0) == 22, "Q5_0 block must match GGUF");
static_assert(sizeof(BlockQ5_1) == 24, "Q5_1 block must match GGUF");
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block must match GGUF");
static_assert(sizeof(BlockQ8_1) == 36, "Q8_1 block must match ggml");
static_assert(sizeof(BlockQ2_K) == 84, "Q2_K block must match GGUF");
static_assert(sizeof(BlockQ3_K) == 110, "Q3_K block must match GGUF");
static_assert(sizeof(BlockQ4_K) == 144, "Q4_K block must match GGUF");
static_assert(sizeof(BlockQ5_K) == 176, "Q5_K block must match GGUF");
static_assert(sizeof(BlockQ6_K) == 210, "Q6_K block must match GGUF");
static_assert(sizeof(BlockQ8_K) == 292, "Q8_K block must match ggml");

}  // namespace ple
