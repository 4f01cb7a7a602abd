// The x86 float dot core in 256-bit AVX2 + FMA + F16C intrinsics, built for avx2 and for avx512 (see
// avx2_helpers.h): F32, F16 and BF16 weights against F32 activations, and the F16 KV-cache dot
// and axpy of attention.
//
// Dots accumulate in float32 with FMA in 4 x 8 lanes (the __ref twins accumulate in double):
// each lane rounds once per element it sums, and the lanes meet in a short tree, hence the
// bound |dot - ref| <= (n / 32 + 16) * 2^-24 * sum |x_i y_i| checked by the tests. The axpy
// multiplies and adds separately (this file is built with -ffp-contract=off) and so equals its
// __ref twin bit for bit.
//
// The weight dots (kernel_table.h, DotFn) are at the end, templates over the ISA policy
// (policy_avx2.h) that qdot_float_<isa>.cpp instantiate and export by name; attention_x86.h has
// the attention kernels. They need none of the policy's operations but take it all the same, so
// that every x86 family is instantiated the same way.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/x86/avx2_helpers.h"
#include "kernels/x86/x86_intrin.h"
#include "kernels/kernel_table.h"
#include "kernels/x86/x86_kernels.h"
#include "quant/blocks.h"

namespace ple::kernels {
namespace {

// Eight weights at element i as floats, and element i alone for the tail.
struct F32Weights {
  const float* p;
  __m256 load8(int64_t i) const { return _mm256_loadu_ps(p + i); }
  float load1(int64_t i) const { return p[i]; }
};
struct F16Weights {
  const uint16_t* p;
  __m256 load8(int64_t i) const { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i))); }
  float load1(int64_t i) const { return _cvtsh_ss(p[i]); }
};
struct BF16Weights {
  const uint16_t* p;
  __m256 load8(int64_t i) const {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
  float load1(int64_t i) const {
    const uint32_t bits = static_cast<uint32_t>(p[i]) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }
};

template <class Weights>
float dot(int64_t n, Weights w, const float* y) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int k = 0; k < 4; ++k) acc[k] = _mm256_fmadd_ps(w.load8(i + 8 * k), _mm256_loadu_ps(y + i + 8 * k), acc[k]);
  }
  for (; i + 8 <= n; i += 8) acc[0] = _mm256_fmadd_ps(w.load8(i), _mm256_loadu_ps(y + i), acc[0]);
  float tail = 0.0f;
  for (; i < n; ++i) tail += w.load1(i) * y[i];
  return hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]))) + tail;
}

template <class Isa>
float qdot_f32_f32(int64_t n, const void* w, const void* a) {
  return dot(n, F32Weights{static_cast<const float*>(w)}, static_cast<const float*>(a));
}

template <class Isa>
float qdot_f16_f32(int64_t n, const void* w, const void* a) {
  return dot(n, F16Weights{static_cast<const uint16_t*>(w)}, static_cast<const float*>(a));
}

template <class Isa>
float qdot_bf16_f32(int64_t n, const void* w, const void* a) {
  return dot(n, BF16Weights{static_cast<const uint16_t*>(w)}, static_cast<const float*>(a));
}

}  // namespace
}  // namespace ple::kernels
