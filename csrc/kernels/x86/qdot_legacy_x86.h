// Dots (kernel_table.h, DotFn) of the 32-element block formats, Q4_0, Q5_0, Q8_0 x Q8_0 and
// Q4_1, Q5_1 x Q8_1, as templates over the x86 ISA policy (policy_avx2.h): each is the 1 x 1 tile
// of qtile_legacy_x86.h, where the contracts and overflow bounds are. Included only by
// qdot_legacy_avx2.cpp and qdot_legacy_avx512.cpp, which instantiate them with their policy and
// export them by name; internal linkage.
#pragma once
#include "kernels/x86/qtile_legacy_x86.h"

namespace ple::kernels {
namespace {

template <class Isa>
float qdot_q4_0_q8_0(int64_t n, const void* w, const void* a) { return dot<Isa, Q4_0>(n, w, a); }
template <class Isa>
float qdot_q5_0_q8_0(int64_t n, const void* w, const void* a) { return dot<Isa, Q5_0>(n, w, a); }
template <class Isa>
float qdot_q8_0_q8_0(int64_t n, const void* w, const void* a) { return dot<Isa, Q8_0>(n, w, a); }
template <class Isa>
float qdot_q4_1_q8_1(int64_t n, const void* w, const void* a) { return dot<Isa, Q4_1>(n, w, a); }
template <class Isa>
float qdot_q5_1_q8_1(int64_t n, const void* w, const void* a) { return dot<Isa, Q5_1>(n, w, a); }

}  // namespace
}  // namespace ple::kernels
