// Kernel tables, one per ISA, and the choice among them (made once per process).
//
// A table is usable when its ISA was built (PLE_BUILT_*, set by cmake/isa_sources.cmake) and its
// features are detected (cpu_features.h). active_kernels() takes the widest usable table, capped
// by PYLLAMA_EDGE_ISA. Only this file names the SIMD kernels, and it only stores their addresses:
// nothing here executes them.
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <string>

#include "kernels/cpu_features.h"
#include "kernels/kernel_table.h"
#include "kernels/ref/ref_kernels.h"
#if PLE_BUILT_AVX2 || PLE_BUILT_AVX512
#include "kernels/x86/x86_kernels.h"
#endif
#if PLE_BUILT_NEON || PLE_BUILT_DOTPROD || PLE_BUILT_I8MM
#include "kernels/arm/arm_kernels.h"
#endif

namespace ple::kernels {
namespace {

void set_weight(KernelTable& t, GGMLType type, DequantizeRowFn dequantize, DotFn dot,
                GGMLType activation, const char* dot_name) {
  WeightKernels& w = t.weights[static_cast<uint32_t>(type)];
  w.dequantize = dequantize;
  w.dot = dot;
  w.activation_type = activation;
  w.dot_name = dot_name;
}

// Weight quantizers for the model quantizer (offline; every table shares these).
void add_weight_quantizers(KernelTable& t) {
  using G = GGMLType;
#define PLE_QW(TYPE, type) t.quantize_weight[static_cast<uint32_t>(G::TYPE)] = quantize_weight_##type##__ref
  PLE_QW(Q4_0, q4_0);
  PLE_QW(Q4_1, q4_1);
  PLE_QW(Q5_0, q5_0);
  PLE_QW(Q5_1, q5_1);
  PLE_QW(Q8_0, q8_0);
  PLE_QW(Q2_K, q2_k);
  PLE_QW(Q3_K, q3_k);
  PLE_QW(Q4_K, q4_k);
  PLE_QW(Q5_K, q5_k);
  PLE_QW(Q6_K, q6_k);
#undef PLE_QW
}
// Every weight type with a dot, its activation type, and the names used in kernel names: the
// float weights, then the quantized ones (integer dots).
#define PLE_FOR_EACH_DOT(X) PLE_FOR_EACH_FLOAT_DOT(X) PLE_FOR_EACH_INT_DOT(X)
#define PLE_FOR_EACH_FLOAT_DOT(X)    \
  X(F32, f32, F32, f32)              \
  X(F16, f16, F32, f32)              \
  X(BF16, bf16, F32, f32)
#define PLE_FOR_EACH_INT_DOT(X)      \
  X(Q4_0, q4_0, Q8_0, q8_0)          \
  X(Q5_0, q5_0, Q8_0, q8_0)          \
  X(Q8_0, q8_0, Q8_0, q8_0)          \
  X(Q4_1, q4_1, Q8_1, q8_1)          \
  X(Q5_1, q5_1, Q8_1, q8_1)          \
  X(Q2_K, q2_k, Q8_K, q8_k)          \
  X(Q3_K, q3_k, Q8_K, q8_k)          \
  X(Q4_K, q4_k, Q8_K, q8_k)          \
  X(Q5_K, q5_k, Q8_K, q8_k)          \
  X(Q6_K, q6_k, Q8_K, q8_k)

KernelTable make_reference_table() {
  KernelTable t;
  t.isa = "scalar";
  using G = GGMLType;
#define PLE_REF(TYPE, type, act_upper, act)                                                       \
  set_weight(t, G::TYPE, dequantize_row_##type##__ref, qdot_##type##_##act##__ref, G::act_upper, \
             "qdot_" #type "_" #act "__ref");
  PLE_FOR_EACH_DOT(PLE_REF)
#undef PLE_REF
  // Activation formats: dequantizable, not used as weights.
  t.weights[static_cast<uint32_t>(G::Q8_1)].dequantize = dequantize_row_q8_1__ref;
  t.weights[static_cast<uint32_t>(G::Q8_K)].dequantize = dequantize_row_q8_k__ref;
  t.quantize[static_cast<uint32_t>(G::Q8_0)] = quantize_row_q8_0__ref;
  t.quantize[static_cast<uint32_t>(G::Q8_1)] = quantize_row_q8_1__ref;
  t.quantize[static_cast<uint32_t>(G::Q8_K)] = quantize_row_q8_k__ref;
  add_weight_quantizers(t);
  t.dot_f16_f32 = dot_f16_f32__ref;
  t.axpy_f16 = axpy_f16__ref;
  t.dot_f16_f32_name = "dot_f16_f32__ref";
  t.axpy_f16_name = "axpy_f16__ref";
  t.axpy_q8_0 = axpy_q8_0__ref;
  t.axpy_q8_0_name = "axpy_q8_0__ref";
  return t;
}

// A SIMD table starts as the reference (dequantization stays scalar: it is not on the hot path)
// and replaces every dot, quantizer and attention kernel.
#define PLE_SIMD_TABLE(isa_name, sfx)                                                               \
  KernelTable make_##sfx##_table() {                                                                \
    KernelTable t = make_reference_table();                                                        \
    t.isa = isa_name;                                                                              \
    using G = GGMLType;                                                                            \
    PLE_FOR_EACH_DOT(PLE_SIMD_DOT_##sfx)                                                           \
    t.quantize[static_cast<uint32_t>(G::Q8_0)] = quantize_row_q8_0__##sfx;                         \
    t.quantize[static_cast<uint32_t>(G::Q8_1)] = quantize_row_q8_1__##sfx;                         \
    t.quantize[static_cast<uint32_t>(G::Q8_K)] = quantize_row_q8_k__##sfx;                         \
    t.dot_f16_f32 = dot_f16_f32__##sfx;                                                            \
    t.axpy_f16 = axpy_f16__##sfx;                                                                  \
    t.dot_f16_f32_name = "dot_f16_f32__" #sfx;                                                     \
    t.axpy_f16_name = "axpy_f16__" #sfx;                                                           \
    t.axpy_q8_0 = axpy_q8_0__##sfx;                                                                \
    t.axpy_q8_0_name = "axpy_q8_0__" #sfx;                                                         \
    return t;                                                                                      \
  }

// x86: both tables are built from the same kernel families (csrc/kernels/x86/*_x86.inc, compiled
// once per ISA): the one-row dots plus, for the types that have them, decode and prefill tiles,
// prefill panels and load-time interleaved rows, all equal to the table's dot bit for bit, and
// grouped-query attention equal to its F16 dot and axpy. The AVX-512 build of a family uses
// EVEX encodings, 32 registers and vpdpbusd where it replaces a vpmaddubsw + vpmaddwd pair.
#define PLE_X86_TILED_TABLE(sfx)                                                                            \
  KernelTable make_##sfx##_tiled_table() {                                                                  \
    KernelTable t = make_##sfx##_table();                                                                   \
    using G = GGMLType;                                                                                     \
    const auto weights = [&t](G type) -> WeightKernels& { return t.weights[static_cast<uint32_t>(type)]; }; \
    weights(G::Q4_0).decode_tile = PLE_X86_TILE(sfx, q4_0, q8_0, 8, 1);                                     \
    weights(G::Q5_0).decode_tile = PLE_X86_TILE(sfx, q5_0, q8_0, 8, 1);                                     \
    weights(G::Q8_0).decode_tile = PLE_X86_TILE(sfx, q8_0, q8_0, 8, 1);                                     \
    weights(G::Q4_1).decode_tile = PLE_X86_TILE(sfx, q4_1, q8_1, 8, 1);                                     \
    weights(G::Q5_1).decode_tile = PLE_X86_TILE(sfx, q5_1, q8_1, 8, 1);                                     \
    weights(G::Q4_0).prefill_tile = PLE_X86_TILE(sfx, q4_0, q8_0, 4, 4);                                    \
    weights(G::Q5_0).prefill_tile = PLE_X86_TILE(sfx, q5_0, q8_0, 4, 4);                                    \
    weights(G::Q8_0).prefill_tile = PLE_X86_TILE(sfx, q8_0, q8_0, 4, 3);                                    \
    weights(G::Q4_1).prefill_tile = PLE_X86_TILE(sfx, q4_1, q8_1, 4, 4);                                    \
    weights(G::Q5_1).prefill_tile = PLE_X86_TILE(sfx, q5_1, q8_1, 4, 4);                                    \
    weights(G::Q4_K).prefill_tile = PLE_X86_TILE(sfx, q4_k, q8_k, 1, 4);                                    \
    weights(G::Q5_K).prefill_tile = PLE_X86_TILE(sfx, q5_k, q8_k, 1, 4);                                    \
    weights(G::Q6_K).prefill_tile = PLE_X86_TILE(sfx, q6_k, q8_k, 1, 4);                                    \
    weights(G::Q4_K).decode_tile = PLE_X86_TILE(sfx, q4_k, q8_k, 4, 1);                                     \
    weights(G::Q5_K).decode_tile = PLE_X86_TILE(sfx, q5_k, q8_k, 4, 1);                                     \
    weights(G::Q6_K).decode_tile = PLE_X86_TILE(sfx, q6_k, q8_k, 4, 1);                                     \
    weights(G::Q4_0).prefill_panel = PLE_X86_PANEL(sfx, q4_0, q8_0);                                        \
    weights(G::Q4_1).prefill_panel = PLE_X86_PANEL(sfx, q4_1, q8_1);                                        \
    weights(G::Q8_0).prefill_panel = PLE_X86_PANEL(sfx, q8_0, q8_0);                                        \
    weights(G::Q4_K).prefill_panel = PLE_X86_PANEL(sfx, q4_k, q8_k);                                        \
    weights(G::Q6_K).prefill_panel = PLE_X86_PANEL(sfx, q6_k, q8_k);                                        \
    weights(G::Q4_0).interleaved = PLE_X86_INTERLEAVED(sfx, q4_0, q8_0);                                    \
    weights(G::Q4_1).interleaved = PLE_X86_INTERLEAVED(sfx, q4_1, q8_1);                                    \
    weights(G::Q8_0).interleaved = PLE_X86_INTERLEAVED(sfx, q8_0, q8_0);                                    \
    weights(G::Q8_0).interleaved.accepts = interleave_accepts_q8_0x8__##sfx;                                \
    weights(G::Q4_K).interleaved = PLE_X86_INTERLEAVED(sfx, q4_k, q8_k);                                    \
    t.attend_scores_f16 = attend_scores_f16__##sfx;                                                         \
    t.attend_values_f16 = attend_values_f16__##sfx;                                                         \
    return t;                                                                                               \
  }
#define PLE_X86_TILE(sfx, type, act, R, T) \
  TileKernel{qtile_##type##_##act##_##R##x##T##__##sfx, R, T, "qtile_" #type "_" #act "_" #R "x" #T "__" #sfx}
#define PLE_X86_PANEL(sfx, type, act)                                                                 \
  PanelKernel{gemm_panel_##type##_##act##__##sfx, pack_panel_##type##__##sfx, panel_bytes_##type##__##sfx, 8, \
              "gemm_panel_" #type "_" #act "__" #sfx}
#define PLE_X86_INTERLEAVED(sfx, type, act)                                                                   \
  InterleavedKernels{interleave_##type##x8__##sfx, interleaved_group_bytes_##type##x8__##sfx,                 \
                     gemv_##type##x8_##act##__##sfx, pack_panel_from_##type##x8__##sfx, 8, "gemv_" #type "x8_" #act "__" #sfx}

#if PLE_BUILT_AVX2
#define PLE_SIMD_DOT_avx2(TYPE, type, act_upper, act)                                              \
  set_weight(t, G::TYPE, t.weights[static_cast<uint32_t>(G::TYPE)].dequantize,                     \
             qdot_##type##_##act##__avx2, G::act_upper, "qdot_" #type "_" #act "__avx2");
PLE_SIMD_TABLE("avx2", avx2)
PLE_X86_TILED_TABLE(avx2)
#endif
#if PLE_BUILT_AVX512
#define PLE_SIMD_DOT_avx512vnni(TYPE, type, act_upper, act)                                        \
  set_weight(t, G::TYPE, t.weights[static_cast<uint32_t>(G::TYPE)].dequantize,                     \
             qdot_##type##_##act##__avx512vnni, G::act_upper, "qdot_" #type "_" #act "__avx512vnni");
PLE_SIMD_TABLE("avx512", avx512vnni)
PLE_X86_TILED_TABLE(avx512vnni)
#endif

// AArch64: each tier starts from the narrower one. dotprod replaces the integer dots (the float
// dots, quantizers and attention kernels stay NEON's); i8mm adds the 2x2 prefill tiles.
#if PLE_BUILT_NEON
#define PLE_SIMD_DOT_neon(TYPE, type, act_upper, act)                                              \
  set_weight(t, G::TYPE, t.weights[static_cast<uint32_t>(G::TYPE)].dequantize,                     \
             qdot_##type##_##act##__neon, G::act_upper, "qdot_" #type "_" #act "__neon");
PLE_SIMD_TABLE("neon", neon)
#endif
#if PLE_BUILT_NEON && PLE_BUILT_DOTPROD
KernelTable make_dotprod_table() {
  KernelTable t = make_neon_table();
  t.isa = "dotprod";
  using G = GGMLType;
#define PLE_DOTPROD_DOT(TYPE, type, act_upper, act)                                                \
  set_weight(t, G::TYPE, t.weights[static_cast<uint32_t>(G::TYPE)].dequantize,                     \
             qdot_##type##_##act##__dotprod, G::act_upper, "qdot_" #type "_" #act "__dotprod");
  PLE_FOR_EACH_INT_DOT(PLE_DOTPROD_DOT)
#undef PLE_DOTPROD_DOT
  return t;
}
#endif
#if PLE_BUILT_NEON && PLE_BUILT_DOTPROD && PLE_BUILT_I8MM
KernelTable make_i8mm_table() {
  KernelTable t = make_dotprod_table();
  t.isa = "i8mm";
  t.weights[static_cast<uint32_t>(GGMLType::Q4_0)].prefill_tile =
      TileKernel{qgemm_q4_0_q8_0_2x2__i8mm, 2, 2, "qgemm_q4_0_q8_0_2x2__i8mm"};
  t.weights[static_cast<uint32_t>(GGMLType::Q8_0)].prefill_tile =
      TileKernel{qgemm_q8_0_q8_0_2x2__i8mm, 2, 2, "qgemm_q8_0_q8_0_2x2__i8mm"};
  return t;
}
#endif

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
  static const KernelTable t = make_avx2_tiled_table();
  return &t;
}
#endif
#if PLE_BUILT_AVX512
const KernelTable* avx512_table() {
  static const KernelTable t = make_avx512vnni_tiled_table();
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

const KernelTable& choose() {
  const std::string& cap = cap_value();
  int limit = kIsaCount - 1;
  if (!cap.empty()) {
    limit = 0;  // unknown names fall back to scalar, the one path every CPU runs
    for (int i = 0; i < kIsaCount; ++i) {
      if (same_name(cap.c_str(), kIsas[i].name)) limit = i;
    }
  }
  for (int i = limit; i > 0; --i) {
    if (usable(kIsas[i])) return *kIsas[i].table();
  }
  return reference_kernels();
}

}  // namespace

const KernelTable& reference_kernels() {
  static const KernelTable table = make_reference_table();
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
