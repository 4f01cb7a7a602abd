// Model-level operations. The only callers of the kernel table; they own no state but the
// scratch they are handed, and split work over the thread pool.
#pragma once
#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "ops/tensor_view.h"

namespace ple::ops {

// Scratch for quantized activations, grown once to the largest need and reused.
struct MatmulScratch {
  std::vector<uint8_t> quantized;
};

// y[t * W.rows + r] = W.row(r) . x[t * W.cols ...] for t < n_tokens. Activations are quantized
// once per call into the weight type's activation format; rows are split across threads.
void matmul(const MatrixView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool,
            MatmulScratch& scratch);

// Row `index` of an embedding matrix (any dequantizable type) as floats.
void embedding_row(const MatrixView& table, int64_t index, float* out);

// out = x / rms(x) * weight, over n elements.
void rmsnorm(const float* x, const float* weight, int64_t n, float eps, float* out);

// Rotates adjacent pairs (x[2i], x[2i+1]) of each of n_heads heads (head_dim each) by
// position * inv_freq[i], where inv_freq has n_rot/2 entries; dims past n_rot are untouched.
void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t position, const float* inv_freq);

// In-place numerically stable softmax over n values.
void softmax(float* x, int64_t n);

// gate[i] = silu(gate[i]) * up[i]
void silu_mul(float* gate, const float* up, int64_t n);

}  // namespace ple::ops
