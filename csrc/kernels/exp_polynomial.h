// The vector exp of the SIMD activations (x86: x86/activations_x86.h; ARM: arm/activations_neon.cpp),
// one set of constants so that every path evaluates the same polynomial in the same order:
// x = n ln2 + r with |r| <= ln2 / 2, e^r by its Taylor series to r^7 (truncation under 0.05 ulp),
// times 2^n built as two powers of two (n runs from -126 to 128, past one float exponent's range).
// Within 2 ulps of the correctly rounded result where that is a normal float; 0 below that range,
// +inf above it, NaN for NaN.
#pragma once

namespace ple::kernels::exp_polynomial {

constexpr float kMaxArg = 88.72283935546875f;   // above: e^x overflows
constexpr float kMinArg = -87.33654022216797f;  // e^kMinArg is the smallest normal float
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;  // ln 2 = kLn2Hi + kLn2Lo, with n * kLn2Hi exact
constexpr float kLn2Lo = -2.12194440e-4f;
// e^r = sum of r^k / k!, Horner order: 1/7!, 1/6!, ..., 1/1!, 1/0!.
constexpr int kTerms = 8;
constexpr float kTaylor[kTerms] = {1.0f / 5040.0f, 1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f,
                                   1.0f / 6.0f,    0.5f,          1.0f,          1.0f};

}  // namespace ple::kernels::exp_polynomial
