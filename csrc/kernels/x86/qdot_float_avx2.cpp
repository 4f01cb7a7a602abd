// qdot_float_x86.inc built for AVX2 + FMA + F16C (cmake/isa_sources.cmake: PLE_AVX2_FLAGS).
#define PLE_X86_VNNI 0
#include "kernels/x86/qdot_float_x86.inc"

namespace ple::kernels {

float qdot_f32_f32__avx2(int64_t n, const void* w, const void* a) { return qdot_f32_f32(n, w, a); }
float qdot_f16_f32__avx2(int64_t n, const void* w, const void* a) { return qdot_f16_f32(n, w, a); }
float qdot_bf16_f32__avx2(int64_t n, const void* w, const void* a) { return qdot_bf16_f32(n, w, a); }

}  // namespace ple::kernels
