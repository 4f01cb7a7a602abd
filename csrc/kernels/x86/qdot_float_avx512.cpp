// The float dots of qdot_float_x86.h built for AVX-512 F/BW/VL + VNNI
// (cmake/isa_sources.cmake: PLE_AVX512_FLAGS), instantiated with Avx512Vnni (policy_avx512.h).
#include "kernels/x86/x86_kernels.h"
#include "kernels/x86/qdot_float_x86.h"
#include "kernels/x86/policy_avx512.h"

namespace ple::kernels {

float qdot_f32_f32__avx512(int64_t n, const void* w, const void* a) { return qdot_f32_f32<Avx512Vnni>(n, w, a); }
float qdot_f16_f32__avx512(int64_t n, const void* w, const void* a) { return qdot_f16_f32<Avx512Vnni>(n, w, a); }
float qdot_bf16_f32__avx512(int64_t n, const void* w, const void* a) { return qdot_bf16_f32<Avx512Vnni>(n, w, a); }

}  // namespace ple::kernels
