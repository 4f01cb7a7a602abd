// Symmetric int8 quantization shared by the activation formats Q8_0, Q8_1 and Q8_K (the scalar
// twins in kernels/ref/) and the Q8_0 weight quantizer (quant/weight_quantizers.cpp).
#pragma once
#include <cmath>
#include <cstdint>

namespace ple {

// Quantizes len floats to q[i] = round-half-away-from-zero(x[i] / d) with d = max|x| / 127 and
// returns d (0 for an all-zero block). x/d is computed as x * (1/d), in float32, exactly as ggml's
// quantize_row_q8_0_ref and gguf's numpy quantizer do, so finite inputs give bit-identical blocks.
// Two guards keep the conversion to int8 defined where ggml's is not: when 1/d overflows (d
// subnormal, max|x| < ~3.7e-37) the quotient is taken directly, and the clamp turns NaN (from
// non-finite inputs) into a bounded value. For finite inputs the clamp never changes a result.
inline float quantize_symmetric_i8(const float* x, int len, int8_t* q) {
  float amax = 0.0f;
  for (int j = 0; j < len; ++j) amax = std::fmax(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const bool divide = std::isinf(id);
  for (int j = 0; j < len; ++j) {
    const float v = divide ? x[j] / d : x[j] * id;
    q[j] = static_cast<int8_t>(std::round(std::fmin(127.0f, std::fmax(-127.0f, v))));
  }
  return d;
}

}  // namespace ple
