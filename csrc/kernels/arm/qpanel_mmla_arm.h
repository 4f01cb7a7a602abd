// The token loop and output shared by the smmla (i8mm) panels, qpanel_i8mm.cpp and
// qpanel_kquants_i8mm.cpp. Accumulator lanes are (row, token) = [(2p, t0), (2p, t1), (2p+1, t0),
// (2p+1, t1)] for row pair p. Tokens go four at a time (two token pairs), then in pairs; a lone
// last token pairs with itself and its partner's outputs are not stored (nullptr). Internal
// linkage, like the kernels.
#pragma once
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace ple::kernels {
namespace {

// Output of one token pair's accumulators (row pairs 0..3): token 0 = lanes 0 and 2, token 1 = 1 and 3.
inline void store_pair(const float32x4_t acc[4], float* out0, float* out1) {
  vst1q_f32(out0, vuzp1q_f32(acc[0], acc[1]));
  vst1q_f32(out0 + 4, vuzp1q_f32(acc[2], acc[3]));
  if (out1 != nullptr) {
    vst1q_f32(out1, vuzp2q_f32(acc[0], acc[1]));
    vst1q_f32(out1 + 4, vuzp2q_f32(acc[2], acc[3]));
  }
}

// pass(std::integral_constant<int, kPairs>, tokens[2 * kPairs], outs[2 * kPairs]) for each pass.
template <class Pass>
void for_token_pairs(const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride, Pass pass) {
  const auto token = [&](int64_t t) { return static_cast<const uint8_t*>(a) + t * a_stride; };
  int64_t t = 0;
  for (; t + 4 <= n_tokens; t += 4) {
    const uint8_t* tokens[4] = {token(t), token(t + 1), token(t + 2), token(t + 3)};
    float* outs[4] = {out + t * out_stride, out + (t + 1) * out_stride, out + (t + 2) * out_stride, out + (t + 3) * out_stride};
    pass(std::integral_constant<int, 2>(), tokens, outs);
  }
  for (; t < n_tokens; t += 2) {
    const bool lone = t + 1 == n_tokens;
    const uint8_t* tokens[2] = {token(t), token(lone ? t : t + 1)};
    float* outs[2] = {out + t * out_stride, lone ? nullptr : out + (t + 1) * out_stride};
    pass(std::integral_constant<int, 1>(), tokens, outs);
  }
}

}  // namespace
}  // namespace ple::kernels
