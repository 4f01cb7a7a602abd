// The activations of activations_x86.h built for AVX-512 F/BW/VL + VNNI
// (cmake/isa_sources.cmake: PLE_AVX512_FLAGS), instantiated with Avx512Vnni (policy_avx512.h).
#include "kernels/x86/x86_kernels.h"
#include "kernels/x86/activations_x86.h"
#include "kernels/x86/policy_avx512.h"

namespace ple::kernels {

void softmax__avx512(float* x, int64_t n) { softmax<Avx512Vnni>(x, n); }
void silu_mul__avx512(float* gate, const float* up, int64_t n) { silu_mul<Avx512Vnni>(gate, up, n); }

}  // namespace ple::kernels
