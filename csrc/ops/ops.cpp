#include "ops/ops.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "kernels/kernel_table.h"

namespace ple::ops {

namespace {

// y = W x with each weight row dequantized to floats first, then an F32 dot.
void matmul_float_activations(const MatrixView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool,
                              MatmulScratch& scratch) {
  const kernels::KernelTable& k = kernels::active_kernels();
  const kernels::DequantizeRowFn dequantize = k.for_type(w.type).dequantize;
  const kernels::DotFn dot = k.for_type(GGMLType::F32).dot;
  const int64_t cols = w.cols;
  const size_t need = static_cast<size_t>(cols) * static_cast<size_t>(pool.size());
  if (scratch.rows.size() < need) scratch.rows.resize(need);
  pool.run([&](int thread, int n_threads) {
    float* row = scratch.rows.data() + static_cast<size_t>(thread) * static_cast<size_t>(cols);
    for (int64_t r = w.rows * thread / n_threads; r < w.rows * (thread + 1) / n_threads; ++r) {
      dequantize(w.row(r), row, cols);
      for (int64_t t = 0; t < n_tokens; ++t) y[t * w.rows + r] = dot(cols, row, x + t * cols);
    }
  });
}

}  // namespace

void matmul(const MatrixView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool,
            MatmulScratch& scratch, bool float_activations) {
  const kernels::KernelTable& k = kernels::active_kernels();
  const kernels::WeightKernels& wk = k.for_type(w.type);
  if (wk.dot == nullptr) throw UnsupportedError(std::string("no matmul kernel for weight type ") + ggml_type_name(w.type));
  if (float_activations && wk.activation_type != GGMLType::F32) {
    matmul_float_activations(w, x, n_tokens, y, pool, scratch);
    return;
  }
  const GGMLTypeInfo& act = ggml_type_info(wk.activation_type);
  const int64_t cols = w.cols;
  const size_t act_row_bytes = static_cast<size_t>(cols / act.block_size) * act.type_size;

  const uint8_t* activations = reinterpret_cast<const uint8_t*>(x);
  if (wk.activation_type != GGMLType::F32) {
    const size_t need = act_row_bytes * static_cast<size_t>(n_tokens);
    if (scratch.quantized.size() < need) scratch.quantized.resize(need);
    const kernels::QuantizeRowFn quantize = k.quantizer(wk.activation_type);
    pool.parallel_for(n_tokens, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) quantize(x + t * cols, scratch.quantized.data() + t * act_row_bytes, cols);
    });
    activations = scratch.quantized.data();
  }
  const kernels::DotFn dot = wk.dot;
  const kernels::DotTile2x2Fn tile = wk.tile2x2;
  pool.parallel_for(w.rows, [&](int64_t r0, int64_t r1) {
    int64_t r = r0;
    // Prefill with a 2x2 tile kernel (ARM i8mm): pairs of rows x pairs of tokens. A tile output
    // equals `dot` of its pair bit for bit, so odd rows and tokens fall back to `dot` below.
    if (tile != nullptr && n_tokens >= 2) {
      for (; r + 2 <= r1; r += 2) {
        int64_t t = 0;
        for (; t + 2 <= n_tokens; t += 2) {
          float out[4];
          tile(cols, w.row(r), w.row_bytes, activations + static_cast<size_t>(t) * act_row_bytes, act_row_bytes, out);
          y[t * w.rows + r] = out[0];
          y[(t + 1) * w.rows + r] = out[1];
          y[t * w.rows + r + 1] = out[2];
          y[(t + 1) * w.rows + r + 1] = out[3];
        }
        for (int rr = 0; rr < 2 && t < n_tokens; ++rr) {
          y[t * w.rows + r + rr] = dot(cols, w.row(r + rr), activations + static_cast<size_t>(t) * act_row_bytes);
        }
      }
    }
    // Token-inner loop: each weight row is read from memory once and reused for every token.
    for (; r < r1; ++r) {
      const uint8_t* row = w.row(r);
      for (int64_t t = 0; t < n_tokens; ++t) {
        y[t * w.rows + r] = dot(cols, row, activations + static_cast<size_t>(t) * act_row_bytes);
      }
    }
  });
}

void embedding_row(const MatrixView& table, int64_t index, float* out) {
  const kernels::DequantizeRowFn fn = kernels::active_kernels().for_type(table.type).dequantize;
  if (fn == nullptr) throw UnsupportedError(std::string("cannot read embeddings of type ") + ggml_type_name(table.type));
  fn(table.row(index), out, table.cols);
}

void rmsnorm(const float* x, const float* weight, int64_t n, float eps, float* out) {
  double sum_sq = 0.0;
  for (int64_t i = 0; i < n; ++i) sum_sq += static_cast<double>(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(sum_sq / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t position, const float* inv_freq) {
  for (int64_t i = 0; i < n_rot / 2; ++i) {
    const double angle = static_cast<double>(position) * inv_freq[i];
    const float c = static_cast<float>(std::cos(angle));
    const float s = static_cast<float>(std::sin(angle));
    for (int64_t h = 0; h < n_heads; ++h) {
      float* pair = x + h * head_dim + 2 * i;
      const float a = pair[0], b = pair[1];
      pair[0] = a * c - b * s;
      pair[1] = a * s + b * c;
    }
  }
}

void softmax(float* x, int64_t n) {
  float max_value = x[0];
  for (int64_t i = 1; i < n; ++i) max_value = std::max(max_value, x[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max_value);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void silu_mul(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

}  // namespace ple::ops
