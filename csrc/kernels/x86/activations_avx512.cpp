// The activations of activations_x86.h built for AVX-512 F/BW/VL + VNNI
// (cmake/isa_sources.cmake: PLE_AVX512_FLAGS).
#include "kernels/x86/x86_kernels.h"
#include "kernels/x86/activations_x86.h"

namespace ple::kernels {

void softmax__avx512(float* x, int64_t n) { softmax8(x, n); }
void silu_mul__avx512(float* gate, const float* up, int64_t n) { silu_mul8(gate, up, n); }

}  // namespace ple::kernels
