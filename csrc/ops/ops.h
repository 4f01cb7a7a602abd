// Model-level operations. The only callers of the kernel table, which they get in their Context
// (context.h) with the thread pool and scratch; they own no state.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/kernel_table.h"
#include "ops/context.h"
#include "ops/tensor_view.h"
#include "weights/weight_matrix.h"

namespace ple::ops {

// y[t * W.rows + r] = W.row(r) . x[t * W.cols ...] for t < n_tokens. Activations are quantized
// once per call into the weight type's activation format (8-bit, as llama.cpp does) and rows
// are split across threads. With float_activations, quantized weight rows are dequantized and
// multiplied with the float activations instead: several times slower, but free of the 8-bit
// activation rounding, for evaluation against a float reference.
void matmul(const Context& ctx, const WeightMatrix& w, const float* x, int64_t n_tokens, float* y,
            bool float_activations = false);

// Several matrices applied to the same input (Q, K and V; gate and up): one matmul each, but the
// activations are quantized once per activation type and all rows are split over the threads in
// one pass (one barrier instead of one per matrix). All matrices have x's column count.
struct MatmulTarget {
  const WeightMatrix* w;
  float* y;  // [n_tokens][w->view.rows]
};
constexpr int kMaxGroup = 4;
void matmul_group(const Context& ctx, const MatmulTarget* targets, int n_targets, const float* x, int64_t n_tokens,
                  bool float_activations = false);

// Row `index` of an embedding matrix (any dequantizable type) as floats.
void embedding_row(const Context& ctx, const MatrixView& table, int64_t index, float* out);

// One position's K or V row of n floats in the KV cache's type (F16 or Q8_0).
void store_kv_row(const Context& ctx, GGMLType type, const float* x, uint8_t* row, int64_t n);

// out = x / rms(x) * weight, over n elements.
void rmsnorm(const float* x, const float* weight, int64_t n, float eps, float* out);

// Rotates adjacent pairs (x[2i], x[2i+1]) of each of n_heads heads (head_dim each) by
// position * inv_freq[i], where inv_freq has n_rot/2 entries; dims past n_rot are untouched.
void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t position, const float* inv_freq);

}  // namespace ple::ops
