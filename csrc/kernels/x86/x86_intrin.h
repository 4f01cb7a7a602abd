// The intrinsics header of the x86 kernel files (and nothing else: no inline code of our own, so
// no helper can be instantiated here with wider flags and kept by the linker for baseline code).
// The emulation test build (PYLLAMA_EDGE_EMULATE_AVX512) compiles the AVX-512 files against
// SIMDe's portable implementations, so their logic can be tested on CPUs without AVX-512.
#pragma once
#if defined(PLE_SIMDE_AVX512)
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#else
#include <immintrin.h>
#endif
