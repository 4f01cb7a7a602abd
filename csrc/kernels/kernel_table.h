// The kernel table: one immutable set of leaf functions chosen once per process for this CPU.
// Declarations only. Kernels never allocate, throw, log or start threads; callers (csrc/ops)
// guarantee the sizes: n is a count of elements and a multiple of the type's block size.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "quant/ggml_types.h"

namespace ple::kernels {

// blocks of some type -> n floats
using DequantizeRowFn = void (*)(const void* blocks, float* out, int64_t n);
// n floats -> blocks of an activation type (Q8_0, Q8_1, Q8_K)
using QuantizeRowFn = void (*)(const float* x, void* blocks, int64_t n);
// dot of n elements: weight blocks (w) against activation blocks (a) of the paired type
using DotFn = float (*)(int64_t n, const void* w, const void* a);
// Attention over the F16 KV cache: sum x[i] * y[i], and y[i] += a * x[i], for n halves x.
using DotF16F32Fn = float (*)(int64_t n, const uint16_t* x, const float* y);
using AxpyF16Fn = void (*)(int64_t n, float a, const uint16_t* x, float* y);
// Attention over a Q8_0 KV cache: y[i] += a * x[i] for n elements held as Q8_0 blocks. (The K
// side needs no kernel of its own: it is the Q8_0 x Q8_0 weight dot against a quantized query.)
using AxpyQ8_0Fn = void (*)(int64_t n, float a, const void* x, float* y);
// Attention of n_q query heads sharing one F16 KV head, over n_rows cached positions (rows of hd
// halves, row_stride halves apart). Scores: scores[j * scores_stride + p] = dot_f16_f32(hd, k_p,
// q + j * q_stride) * scale. Values: out[j * out_stride + i] += s[j * s_stride + p] * v_p[i],
// positions in order. Each equals the per-position dot_f16_f32 / axpy_f16 of the same table bit
// for bit, converting each cached row once for all n_q heads. Optional (nullptr: ops loops the
// per-position kernels); hd <= kMaxAttendHeadDim.
constexpr int64_t kMaxAttendHeadDim = 256;
using AttendScoresF16Fn = void (*)(int64_t n_rows, int64_t hd, const uint16_t* k, size_t row_stride, const float* q,
                                   size_t q_stride, int64_t n_q, float scale, float* scores, size_t scores_stride);
using AttendValuesF16Fn = void (*)(int64_t n_rows, int64_t hd, const uint16_t* v, size_t row_stride, const float* s,
                                   size_t s_stride, int64_t n_q, float* out, size_t out_stride);
// Elementwise activations, in place. softmax: x[i] = exp(x[i] - max) / sum over n >= 1 values;
// silu_mul: gate[i] = gate[i] / (1 + exp(-gate[i])) * up[i]. The SIMD paths compute exp with a
// polynomial within a few ulps of the scalar twin's std::exp (0 where the result would be
// subnormal), so they are tested against it with a bound, not bit for bit. A path's result for a
// row depends only on its values and n, never on alignment or threads: a batch row equals the
// same row of a decode step.
using SoftmaxFn = void (*)(float* x, int64_t n);
using SiluMulFn = void (*)(float* gate, const float* up, int64_t n);

// A tile of R weight rows x T activation rows (tokens) in one pass: out[r * T + t] =
// dot(n, w + r * w_stride, a + t * a_stride), strides in bytes. Each weight block is unpacked
// once for T tokens and each activation block loaded once for R rows. Every output equals the
// table's `dot` of that pair bit for bit, so a matmul may mix tiles and dots freely (and results
// do not depend on how rows are split over threads).
using DotTileFn = void (*)(int64_t n, const void* w, size_t w_stride, const void* a, size_t a_stride, float* out);

constexpr int kMaxTileOutputs = 16;  // rows * tokens of any tile

struct TileKernel {
  DotTileFn fn = nullptr;  // nullptr: no tile, use `dot`
  int rows = 0;
  int tokens = 0;
  const char* name = nullptr;
};

// Prefill over a panel: `pack` copies `rows` weight rows (w_stride bytes apart) of n columns
// into a scratch panel of `panel_bytes(n)` bytes laid out for the kernel; `gemm` then computes
// out[t * out_stride + r] = dot(n, row r, a + t * a_stride) for r < rows and t < n_tokens. The
// driver packs once per chunk of tokens, so the weights stay mmapped and unmodified. Every output
// equals the table's `dot` of that pair bit for bit, like the tiles.
using PanelBytesFn = size_t (*)(int64_t n);
using PackPanelFn = void (*)(int64_t n, const void* w, size_t w_stride, void* panel);
using PanelGemmFn = void (*)(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out,
                             size_t out_stride);
struct PanelKernel {
  PanelGemmFn gemm = nullptr;  // nullptr: no panel kernel, use the prefill tile
  PackPanelFn pack = nullptr;
  PanelBytesFn panel_bytes = nullptr;
  int rows = 0;
  const char* name = nullptr;
};

// A load-time packed layout (built by csrc/weights/ once per model; ruy's pack): `pack` rewrites
// `rows` weight rows (w_stride bytes apart) of n columns into one group of `group_bytes(n)` bytes
// (x86: the rows' blocks interleaved, plus at most a few percent of unpacked scales); `gemv`
// computes out[g * rows + r] = dot(n, row g * rows + r, a) for n_groups consecutive groups (decode);
// `pack_panel` builds the prefill panel of one group (its w_stride is ignored). Outputs equal the
// table's `dot` bit for bit. A table adds a layout for a type by filling its slot; the model and
// the ops need no change.
using PackFn = void (*)(int64_t n, const void* w, size_t w_stride, void* out_group);
// Whether a matrix of `rows` rows can take the layout (a GEMV may rely on a property of the
// quants, checked once at load time); nullptr: every matrix of the type can.
using PackAcceptsFn = bool (*)(int64_t n, const void* w, size_t w_stride, int64_t rows);
using PackedGemvFn = void (*)(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out);
// `gemv` for n_tokens tokens at once (activation rows a_stride bytes apart; token t's outputs at
// out + t * out_stride): the weights are read once for all of them, and every token's outputs equal
// its `gemv`'s bit for bit.
using PackedGemvTokensFn = void (*)(int64_t n, const void* groups, int64_t n_groups, const void* a, size_t a_stride,
                                    int64_t n_tokens, float* out, size_t out_stride);
struct PackedKernels {
  PackFn pack = nullptr;  // nullptr: weights of this type stay as they are in the file
  PanelBytesFn group_bytes = nullptr;
  PackedGemvFn gemv = nullptr;
  PackPanelFn pack_panel = nullptr;
  int rows = 0;
  const char* name = nullptr;
  PackAcceptsFn accepts = nullptr;
  // Batches of 2..max_gemv_batch tokens (speculative decoding's verification) run `gemv` once per
  // token over cache-sized stripes instead of packing prefill panels, where that is cheaper for
  // the table (x86: measured, bench/README.md, issue 18); 0: batches always take the panels.
  int max_gemv_batch = 0;
  // Those batches through gemv_tokens, where the table has it (nullptr: `gemv` per token).
  PackedGemvTokensFn gemv_tokens = nullptr;
};

struct WeightKernels {
  DequantizeRowFn dequantize = nullptr;
  DotFn dot = nullptr;                   // nullptr: not usable as a matmul weight
  GGMLType activation_type = GGMLType::F32;  // what `dot` expects for `a`
  const char* dot_name = nullptr;        // e.g. "qdot_q4_0_q8_0__avx2", for system_info()
  TileKernel decode_tile;                // tokens == 1: several rows against one token
  TileKernel prefill_tile;               // tokens > 1: rows x tokens
  PanelKernel prefill_panel;             // tokens > 1, preferred over prefill_tile when set
  PackedKernels packed;                  // optional load-time layout (csrc/weights/), decode and prefill
};

struct KernelTable {
  const char* isa = "scalar";
  WeightKernels weights[kGGMLTypeCount];    // indexed by type id
  QuantizeRowFn quantize[kGGMLTypeCount] = {};  // activation types only
  DotF16F32Fn dot_f16_f32 = nullptr;
  AxpyF16Fn axpy_f16 = nullptr;
  const char* dot_f16_f32_name = nullptr;
  const char* axpy_f16_name = nullptr;
  AttendScoresF16Fn attend_scores_f16 = nullptr;
  AttendValuesF16Fn attend_values_f16 = nullptr;
  AxpyQ8_0Fn axpy_q8_0 = nullptr;
  const char* axpy_q8_0_name = nullptr;
  SoftmaxFn softmax = nullptr;
  SiluMulFn silu_mul = nullptr;
  const char* softmax_name = nullptr;
  const char* silu_mul_name = nullptr;

  const WeightKernels& for_type(GGMLType t) const { return weights[static_cast<uint32_t>(t)]; }
  QuantizeRowFn quantizer(GGMLType t) const { return quantize[static_cast<uint32_t>(t)]; }
};

// The scalar twins: the specification every SIMD path is tested against.
const KernelTable& reference_kernels();

// Best table this CPU supports, chosen once on first call (thread-safe). A path is a candidate
// only when it was built (PLE_BUILT_*) and its features are detected (cpu_features.h). The
// environment variable PYLLAMA_EDGE_ISA caps the choice, it never widens it: on x86 "scalar",
// "avx2" or "avx512", on AArch64 "scalar", "neon", "dotprod" or "i8mm" (case-insensitive); any
// other non-empty value throws InvalidArgument naming the accepted values (on every call).
const KernelTable& active_kernels();

// The table a model runs on: `isa` names one usable table (case-insensitive), empty means
// active_kernels(). Throws InvalidArgument naming the usable ISAs when `isa` is not one of them.
// An explicit name is not capped by PYLLAMA_EDGE_ISA: tests run two paths in one process.
const KernelTable& kernel_table_named(const std::string& isa);

// The table of one ISA by name ("scalar", "avx2", "avx512", "neon", "dotprod", "i8mm"), or
// nullptr when it was not built or this CPU cannot run it. Ignores PYLLAMA_EDGE_ISA: tests use
// it to run every usable path.
const KernelTable* kernel_table_for(const char* isa);

// Names of the ISAs kernel_table_for() accepts on this machine, narrowest first ("scalar"
// always first); count receives how many. built_isas() lists the compiled ones, usable or not.
const char* const* usable_isas(int* count);
const char* const* built_isas(int* count);

// The PYLLAMA_EDGE_ISA value in force when the table was chosen (nullptr when unset or empty).
const char* isa_cap();

}  // namespace ple::kernels
