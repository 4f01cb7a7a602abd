// What this CPU (and its operating system) can execute, detected once at run time. Compiled at
// the platform baseline and kept out of LTO, so no wider instruction can run before the check.
// Other ISAs than the one compiled for report every feature false.
#pragma once

namespace ple::kernels {

struct CpuFeatures {
  // x86-64. Each AVX feature counts only when the OS saves the register state it needs (XCR0):
  // YMM for the AVX family, YMM + opmask + ZMM for AVX-512.
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512vnni = false;
  bool avxvnni = false;  // VEX-encoded VNNI (reported only; no kernel uses it)
  // AArch64: AdvSIMD (always), sdot/udot (FEAT_DotProd), smmla (FEAT_I8MM). Linux: getauxval
  // hwcaps; macOS: sysctlbyname("hw.optional.arm.FEAT_*").
  bool neon = false;
  bool dotprod = false;
  bool i8mm = false;
};

// Detected on first call (thread-safe), immutable afterwards.
const CpuFeatures& cpu_features();

// Writes up to `capacity` name/value pairs of the fields above (declaration order), for reporting;
// returns how many there are in all.
struct CpuFeatureEntry {
  const char* name;
  bool value;
};
int cpu_feature_list(const CpuFeatures& f, CpuFeatureEntry* out, int capacity);

}  // namespace ple::kernels
