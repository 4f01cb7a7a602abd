// attention_x86.inc built for AVX-512 F/BW/VL + VNNI (PLE_AVX512_FLAGS): the same 256-bit kernels
// with EVEX encodings and 32 vector registers, and vpdpbusd where PLE_X86_VNNI selects it.
#define PLE_X86_ISA avx512
#define PLE_X86_VNNI 1
#include "kernels/x86/attention_x86.inc"
