// The choice among the kernel tables (tables_*.cpp, one per ISA).
//
// A table is usable when its ISA was built (PLE_BUILT_*, set by cmake/isa_sources.cmake) and its
// features are detected (cpu_features.h).
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/error.h"
#include "kernels/cpu_features.h"
#include "kernels/kernel_table.h"
#include "kernels/table_builders.h"

namespace ple::kernels {
namespace {

// The ISAs of this platform, narrowest first.
struct IsaEntry {
  const char* name;
  bool built;
  bool (*supported)(const CpuFeatures&);
  const KernelTable* (*table)();
};

const KernelTable* scalar_table() { return &reference_kernels(); }
#if PLE_BUILT_AVX2
const KernelTable* avx2_table() {
  static const KernelTable t = make_avx2_table();
  return &t;
}
#endif
#if PLE_BUILT_AVX512
const KernelTable* avx512_table() {
  static const KernelTable t = make_avx512_table();
  return &t;
}
#endif

#if PLE_BUILT_NEON
const KernelTable* neon_table() {
  static const KernelTable t = make_neon_table();
  return &t;
}
#endif
#if PLE_BUILT_NEON && PLE_BUILT_DOTPROD
const KernelTable* dotprod_table() {
  static const KernelTable t = make_dotprod_table();
  return &t;
}
#endif
#if PLE_BUILT_NEON && PLE_BUILT_DOTPROD && PLE_BUILT_I8MM
const KernelTable* i8mm_table() {
  static const KernelTable t = make_i8mm_table();
  return &t;
}
#endif

#if defined(__aarch64__) || defined(_M_ARM64)
bool has_neon(const CpuFeatures& f) { return f.neon; }
bool has_dotprod(const CpuFeatures& f) { return f.neon && f.dotprod; }
bool has_i8mm(const CpuFeatures& f) { return f.neon && f.dotprod && f.i8mm; }  // its dots are dotprod's
#endif

#if defined(__x86_64__) || defined(_M_X64)
bool has_avx2(const CpuFeatures& f) { return f.avx2 && f.fma && f.f16c; }
bool has_avx512(const CpuFeatures& f) {
#if PLE_EMULATED_AVX512  // test build only: the AVX-512 files run on SIMDe, any AVX2 CPU will do
  return has_avx2(f);
#else
  return has_avx2(f) && f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni;
#endif
}
#endif

const IsaEntry kIsas[] = {
    {"scalar", true, [](const CpuFeatures&) { return true; }, scalar_table},
#if defined(__x86_64__) || defined(_M_X64)
#if PLE_BUILT_AVX2
    {"avx2", true, has_avx2, avx2_table},
#else
    {"avx2", false, has_avx2, nullptr},
#endif
#if PLE_BUILT_AVX512
    {"avx512", true, has_avx512, avx512_table},
#else
    {"avx512", false, has_avx512, nullptr},
#endif
#elif defined(__aarch64__) || defined(_M_ARM64)
#if PLE_BUILT_NEON
    {"neon", true, has_neon, neon_table},
#else
    {"neon", false, has_neon, nullptr},
#endif
#if PLE_BUILT_NEON && PLE_BUILT_DOTPROD
    {"dotprod", true, has_dotprod, dotprod_table},
#else
    {"dotprod", false, has_dotprod, nullptr},
#endif
#if PLE_BUILT_NEON && PLE_BUILT_DOTPROD && PLE_BUILT_I8MM
    {"i8mm", true, has_i8mm, i8mm_table},
#else
    {"i8mm", false, has_i8mm, nullptr},
#endif
#endif
};
constexpr int kIsaCount = static_cast<int>(sizeof kIsas / sizeof kIsas[0]);

bool usable(const IsaEntry& e) { return e.built && e.supported(cpu_features()); }

struct IsaLists {
  const char* usable[kIsaCount];
  const char* built[kIsaCount];
  int n_usable = 0, n_built = 0;
};

const IsaLists& isa_lists() {
  static const IsaLists lists = [] {
    IsaLists l;
    for (const IsaEntry& e : kIsas) {
      if (e.built) l.built[l.n_built++] = e.name;
      if (usable(e)) l.usable[l.n_usable++] = e.name;
    }
    return l;
  }();
  return lists;
}

bool same_name(const char* a, const char* b) {
  for (; *a && *b; ++a, ++b) {
    if (std::tolower(static_cast<unsigned char>(*a)) != std::tolower(static_cast<unsigned char>(*b))) return false;
  }
  return *a == *b;
}

// The cap, read once with the choice. Empty counts as unset.
const std::string& cap_value() {
  static const std::string value = [] {
    const char* env = std::getenv("PYLLAMA_EDGE_ISA");
    return std::string(env != nullptr ? env : "");
  }();
  return value;
}

// The names this platform accepts for PYLLAMA_EDGE_ISA, for the error message.
std::string accepted_isa_names() {
  std::string names;
  for (const IsaEntry& e : kIsas) names += (names.empty() ? "" : ", ") + std::string(e.name);
  return names;
}

const KernelTable& choose() {
  const std::string& cap = cap_value();
  int limit = kIsaCount - 1;
  if (!cap.empty()) {
    limit = -1;
    for (int i = 0; i < kIsaCount; ++i) {
      if (same_name(cap.c_str(), kIsas[i].name)) limit = i;
    }
    // A typo must not silently run the slowest path.
    if (limit < 0) {
      throw InvalidArgument("PYLLAMA_EDGE_ISA='" + cap + "' is not a kernel path of this platform; accepted values: " +
                            accepted_isa_names() + " (case-insensitive; empty means no cap)");
    }
  }
  for (int i = limit; i > 0; --i) {
    if (usable(kIsas[i])) return *kIsas[i].table();
  }
  return reference_kernels();
}

}  // namespace

const KernelTable& reference_kernels() {
  static const KernelTable table = make_scalar_table();
  return table;
}

const KernelTable& active_kernels() {
  static const KernelTable& table = choose();
  return table;
}

const KernelTable* kernel_table_for(const char* isa) {
  if (isa == nullptr) return nullptr;
  for (const IsaEntry& e : kIsas) {
    if (same_name(isa, e.name)) return usable(e) ? e.table() : nullptr;
  }
  return nullptr;
}

const KernelTable& kernel_table_named(const std::string& isa) {
  if (isa.empty()) return active_kernels();
  const KernelTable* table = kernel_table_for(isa.c_str());
  if (table == nullptr) {
    std::string usable;
    for (int i = 0; i < isa_lists().n_usable; ++i) usable += (i ? ", " : "") + std::string(isa_lists().usable[i]);
    throw InvalidArgument("kernel ISA '" + isa + "' is not usable on this machine (usable: " + usable + ")");
  }
  return *table;
}

const char* const* usable_isas(int* count) {
  *count = isa_lists().n_usable;
  return isa_lists().usable;
}

const char* const* built_isas(int* count) {
  *count = isa_lists().n_built;
  return isa_lists().built;
}

const char* isa_cap() {
  active_kernels();
  return cap_value().empty() ? nullptr : cap_value().c_str();
}

}  // namespace ple::kernels
