// CPU feature detection. Built with the baseline flags of the platform and -fno-lto (see
// cmake/isa_sources.cmake): it must run on every CPU, including those it finds lacking.
#include "kernels/cpu_features.h"

#if defined(__x86_64__) || defined(_M_X64)
#define PLE_X86_64 1
#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

#if (defined(__x86_64__) || defined(__aarch64__)) && defined(__APPLE__)
#include <sys/types.h>  // before sys/sysctl.h, which uses its types
#include <sys/sysctl.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#define PLE_AARCH64_LINUX 1
#include <sys/auxv.h>
#elif defined(__aarch64__) && defined(__APPLE__)
#define PLE_AARCH64_APPLE 1
#endif

#include <cstdint>

namespace ple::kernels {
namespace {

#if PLE_X86_64
struct CpuidRegs {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

CpuidRegs cpuid(uint32_t leaf, uint32_t subleaf) {
  CpuidRegs r;
#if defined(_MSC_VER)
  int regs[4];
  __cpuidex(regs, static_cast<int>(leaf), static_cast<int>(subleaf));
  r.eax = static_cast<uint32_t>(regs[0]);
  r.ebx = static_cast<uint32_t>(regs[1]);
  r.ecx = static_cast<uint32_t>(regs[2]);
  r.edx = static_cast<uint32_t>(regs[3]);
#else
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
#endif
  return r;
}

// XCR0: which register state the OS saves on context switches. Only valid when CPUID reports
// OSXSAVE; xgetbv is emitted as raw asm so this file needs no -mxsave.
uint64_t xcr0() {
#if defined(_MSC_VER)
  return _xgetbv(0);
#else
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
#endif
}

bool bit(uint32_t reg, int n) { return ((reg >> n) & 1u) != 0; }

CpuFeatures detect() {
  CpuFeatures f;
  const uint32_t max_leaf = cpuid(0, 0).eax;
  if (max_leaf < 1) return f;
  const CpuidRegs l1 = cpuid(1, 0);
  const bool osxsave = bit(l1.ecx, 27);
  const bool avx = bit(l1.ecx, 28);
  if (!osxsave || !avx) return f;
  const uint64_t xcr = xcr0();
  const bool ymm_state = (xcr & 0x6u) == 0x6u;           // SSE + AVX state
  bool zmm_state = ymm_state && (xcr & 0xe0u) == 0xe0u;  // opmask, ZMM_Hi256, Hi16_ZMM
#if defined(__APPLE__)
  // macOS turns the AVX-512 state on at a thread's first AVX-512 instruction, so XCR0 shows it
  // off until then; the kernel says whether it supports it.
  int os_avx512 = 0;
  size_t size = sizeof os_avx512;
  if (ymm_state && sysctlbyname("hw.optional.avx512f", &os_avx512, &size, nullptr, 0) == 0 && os_avx512 != 0) {
    zmm_state = true;
  }
#endif
  if (!ymm_state) return f;
  f.fma = bit(l1.ecx, 12);
  f.f16c = bit(l1.ecx, 29);
  if (max_leaf >= 7) {
    const CpuidRegs l7 = cpuid(7, 0);
    f.avx2 = bit(l7.ebx, 5);
    if (zmm_state) {
      f.avx512f = bit(l7.ebx, 16);
      f.avx512bw = bit(l7.ebx, 30);
      f.avx512vl = bit(l7.ebx, 31);
      f.avx512vnni = bit(l7.ecx, 11);
    }
    if (l7.eax >= 1) f.avxvnni = bit(cpuid(7, 1).eax, 4);
  }
  return f;
}
#elif PLE_AARCH64_LINUX
// The kernel's hwcaps, not /proc/cpuinfo (under qemu-user that shows the host). Bit values from
// the Linux uapi <asm/hwcap.h>, for toolchains whose headers predate them.
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1UL << 13)
#endif
CpuFeatures detect() {
  CpuFeatures f;
  f.neon = true;  // AdvSIMD is mandatory in AArch64; the baseline code already uses it
  const unsigned long hwcap = getauxval(AT_HWCAP);
  const unsigned long hwcap2 = getauxval(AT_HWCAP2);
  f.dotprod = (hwcap & HWCAP_ASIMDDP) != 0;
  f.i8mm = (hwcap2 & HWCAP2_I8MM) != 0;
  return f;
}
#elif PLE_AARCH64_APPLE
bool sysctl_flag(const char* name) {
  int value = 0;
  size_t size = sizeof value;
  return sysctlbyname(name, &value, &size, nullptr, 0) == 0 && value != 0;
}
CpuFeatures detect() {
  CpuFeatures f;
  f.neon = true;
  // The FEAT_* names exist since macOS 12; where they are missing the query fails and NEON is used.
  f.dotprod = sysctl_flag("hw.optional.arm.FEAT_DotProd");
  f.i8mm = sysctl_flag("hw.optional.arm.FEAT_I8MM");
  return f;
}
#elif defined(__aarch64__) || defined(_M_ARM64)
// Other AArch64 systems: NEON only, until their feature query is wired up.
CpuFeatures detect() {
  CpuFeatures f;
  f.neon = true;
  return f;
}
#else
CpuFeatures detect() { return CpuFeatures{}; }
#endif

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

int cpu_feature_list(const CpuFeatures& f, CpuFeatureEntry* out, int capacity) {
  const CpuFeatureEntry all[] = {
      {"avx2", f.avx2},         {"fma", f.fma},           {"f16c", f.f16c},
      {"avx512f", f.avx512f},   {"avx512bw", f.avx512bw}, {"avx512vl", f.avx512vl},
      {"avx512vnni", f.avx512vnni}, {"avxvnni", f.avxvnni}, {"neon", f.neon},
      {"dotprod", f.dotprod},   {"i8mm", f.i8mm},
  };
  const int n = static_cast<int>(sizeof all / sizeof all[0]);
  for (int i = 0; i < n && i < capacity; ++i) out[i] = all[i];
  return n;
}

}  // namespace ple::kernels
