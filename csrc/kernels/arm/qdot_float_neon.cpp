// NEON dots (kernel_table.h, DotFn) of F32, F16 and BF16 weights against F32 activations.
// Rounding bound: qdot_float_arm.h.
#include "kernels/arm/arm_kernels.h"
#include "kernels/arm/qdot_float_arm.h"

namespace ple::kernels {

float qdot_f32_f32__neon(int64_t n, const void* w, const void* a) {
  return dot(n, F32Weights{static_cast<const float*>(w)}, static_cast<const float*>(a));
}

float qdot_f16_f32__neon(int64_t n, const void* w, const void* a) {
  return dot(n, F16Weights{static_cast<const uint16_t*>(w)}, static_cast<const float*>(a));
}

float qdot_bf16_f32__neon(int64_t n, const void* w, const void* a) {
  return dot(n, BF16Weights{static_cast<const uint16_t*>(w)}, static_cast<const float*>(a));
}

}  // namespace ple::kernels
