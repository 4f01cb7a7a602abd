// qdot_float_x86.inc built for AVX-512 F/BW/VL + VNNI (PLE_AVX512_FLAGS): the same
// 256-bit code with EVEX encodings, 32 vector registers, and vpdpbusd where PLE_X86_VNNI selects it.
#define PLE_X86_VNNI 1
#include "kernels/x86/qdot_float_x86.inc"

namespace ple::kernels {

float qdot_f32_f32__avx512(int64_t n, const void* w, const void* a) { return qdot_f32_f32(n, w, a); }
float qdot_f16_f32__avx512(int64_t n, const void* w, const void* a) { return qdot_f16_f32(n, w, a); }
float qdot_bf16_f32__avx512(int64_t n, const void* w, const void* a) { return qdot_bf16_f32(n, w, a); }

}  // namespace ple::kernels
