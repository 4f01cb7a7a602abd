// attention_x86.inc built for AVX2 + FMA + F16C (cmake/isa_sources.cmake: PLE_AVX2_FLAGS).
#define PLE_X86_ISA avx2
#include "kernels/x86/attention_x86.inc"
