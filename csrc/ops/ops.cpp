#include "ops/ops.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/fp16.h"
#include "kernels/kernel_table.h"

namespace ple::ops {

namespace {

// y = W x with each weight row dequantized to floats first, then an F32 dot.
void matmul_float_activations(const Context& ctx, const MatrixView& w, const float* x, int64_t n_tokens, float* y) {
  const kernels::KernelTable& k = ctx.kernels;
  ThreadPool& pool = ctx.pool;
  MatmulScratch& scratch = ctx.matmul;
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

namespace {

// Prefill walks tokens in chunks whose quantized activations stay in L2 while every row of the
// thread's range passes over them (a chunk of 64 tokens at 2048 columns of Q8_0 is 136 KiB).
constexpr int64_t kTokenChunk = 64;
// With a panel kernel the weights sit in the packed panel (L1/L2) and the activations stream past
// it, so a longer chunk only spreads the packing over more tokens (packing was 9% of a 512-token
// Q4_K_M prefill at 64-token chunks).
constexpr int64_t kPanelTokenChunk = 256;

// Small batches on packed weights may run the GEMV once per token (PackedKernels::max_gemv_batch,
// see matmul_rows), over stripes of about kPackedStripeBytes of packed weights (half of a typical
// L2).
constexpr int64_t kPackedStripeBytes = 256 << 10;

// Rows [r0, r1) of y = W x for every token: for prefill the table's panel kernel where it has
// one, else its tiles, and `dot` for the rows and tokens left over (panel and tile outputs equal
// `dot` bit for bit, so the split does not change results).
void matmul_rows(const kernels::WeightKernels& wk, const WeightMatrix& matrix, const uint8_t* act, size_t act_row_bytes,
                 int64_t n_tokens, float* y, int64_t r0, int64_t r1) {
  const MatrixView& w = matrix.view;
  const PackedRows& packed = matrix.packed;
  const int64_t cols = w.cols;
  const kernels::TileKernel& tile = n_tokens == 1 ? wk.decode_tile : wk.prefill_tile;
  const kernels::PanelKernel& panel = wk.prefill_panel;
  const kernels::PackedKernels& pk = packed.kernels != nullptr ? *packed.kernels : wk.packed;
  const auto act_row = [&](int64_t t) { return act + static_cast<size_t>(t) * act_row_bytes; };
  const auto single = [&](int64_t r, int64_t t) { y[t * w.rows + r] = wk.dot(cols, w.row(r), act_row(t)); };
  // Rows packed at load time (weights/packed_weights.h): whole groups go to the GEMV (decode) or
  // are unpacked into the prefill panel from the group; the rest use the file's rows.
  const bool has_packed = packed.groups != nullptr;
  if (n_tokens == 1 && has_packed) {
    const int64_t g0 = (r0 + pk.rows - 1) / pk.rows, g1 = std::min(r1, packed.rows) / pk.rows;
    if (g1 > g0) {
      for (int64_t r = r0; r < g0 * pk.rows; ++r) single(r, 0);
      pk.gemv(cols, packed.group(g0), g1 - g0, act, y + g0 * pk.rows);
      r0 = g1 * pk.rows;
      if (r0 >= r1) return;
    }
  }
  if (n_tokens > 1 && n_tokens <= pk.max_gemv_batch && has_packed) {
    // A small batch (speculative decoding's verification): the decode GEMV once per token over a
    // stripe of groups that stays in cache, so the weights are read from memory once and every
    // token's result is the decode step's, bit for bit. Packing prefill panels costs more here.
    const int64_t g0 = (r0 + pk.rows - 1) / pk.rows, g1 = std::min(r1, packed.rows) / pk.rows;
    if (g1 > g0) {
      for (int64_t r = r0; r < g0 * pk.rows; ++r) {
        for (int64_t t = 0; t < n_tokens; ++t) single(r, t);
      }
      const int64_t stripe = std::max<int64_t>(1, kPackedStripeBytes / static_cast<int64_t>(pk.group_bytes(cols)));
      for (int64_t g = g0; g < g1; g += stripe) {
        const int64_t n_groups = std::min(stripe, g1 - g);
        if (pk.gemv_tokens != nullptr) {
          pk.gemv_tokens(cols, packed.group(g), n_groups, act, act_row_bytes, n_tokens, y + g * pk.rows, static_cast<size_t>(w.rows));
        } else {
          for (int64_t t = 0; t < n_tokens; ++t) pk.gemv(cols, packed.group(g), n_groups, act_row(t), y + t * w.rows + g * pk.rows);
        }
      }
      r0 = g1 * pk.rows;
      if (r0 >= r1) return;
    }
  }
  const bool use_panel = n_tokens > 1 && panel.gemm != nullptr;
  const bool use_tile = tile.fn != nullptr && n_tokens >= tile.tokens && tile.rows * tile.tokens <= kernels::kMaxTileOutputs;
  if (!use_panel && !use_tile) {
    // Token-inner loop: each weight row is read from memory once and reused for every token.
    for (int64_t r = r0; r < r1; ++r) {
      for (int64_t t = 0; t < n_tokens; ++t) single(r, t);
    }
    return;
  }
  const int R = tile.rows, T = tile.tokens;
  float out[kernels::kMaxTileOutputs];
  const int64_t chunk = use_panel ? kPanelTokenChunk : kTokenChunk;
  for (int64_t t0 = 0; t0 < n_tokens; t0 += chunk) {
    const int64_t t1 = std::min(n_tokens, t0 + chunk);
    int64_t r = r0;
    if (use_panel) {
      // Each pool thread keeps its own panel buffer, grown to the widest matrix it has seen.
      thread_local std::vector<uint8_t> panel_buffer;
      const size_t bytes = panel.panel_bytes(cols);
      if (panel_buffer.size() < bytes) panel_buffer.resize(bytes);
      for (; r + panel.rows <= r1; r += panel.rows) {
        if (has_packed && r % pk.rows == 0 && r + pk.rows <= packed.rows) {
          pk.pack_panel(cols, packed.group(r / pk.rows), 0, panel_buffer.data());
        } else {
          panel.pack(cols, w.row(r), w.row_bytes, panel_buffer.data());
        }
        panel.gemm(cols, panel_buffer.data(), act_row(t0), act_row_bytes, t1 - t0, y + t0 * w.rows + r,
                   static_cast<size_t>(w.rows));
      }
    }
    for (; use_tile && r + R <= r1; r += R) {
      int64_t t = t0;
      for (; t + T <= t1; t += T) {
        tile.fn(cols, w.row(r), w.row_bytes, act_row(t), act_row_bytes, out);
        for (int i = 0; i < R; ++i) {
          for (int j = 0; j < T; ++j) y[(t + j) * w.rows + r + i] = out[i * T + j];
        }
      }
      for (; t < t1; ++t) {
        for (int i = 0; i < R; ++i) single(r + i, t);
      }
    }
    for (; r < r1; ++r) {
      for (int64_t t = t0; t < t1; ++t) single(r, t);
    }
  }
}

}  // namespace

void matmul(const Context& ctx, const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, bool float_activations) {
  const MatmulTarget target{&w, y};
  matmul_group(ctx, &target, 1, x, n_tokens, float_activations);
}

void matmul_group(const Context& ctx, const MatmulTarget* targets, int n_targets, const float* x, int64_t n_tokens,
                  bool float_activations) {
  const kernels::KernelTable& k = ctx.kernels;
  ThreadPool& pool = ctx.pool;
  MatmulScratch& scratch = ctx.matmul;
  if (n_targets < 1 || n_targets > kMaxGroup) throw InvalidArgument("matmul_group takes 1 to 4 matrices");
  for (int i = 0; i < n_targets; ++i) {
    const GGMLType type = targets[i].w->view.type;
    if (k.for_type(type).dot == nullptr) throw UnsupportedError(std::string("no matmul kernel for weight type ") + ggml_type_name(type));
  }
  if (float_activations) {  // the slow evaluation path, one matrix at a time
    for (int i = 0; i < n_targets; ++i) {
      if (k.for_type(targets[i].w->view.type).activation_type != GGMLType::F32) {
        matmul_float_activations(ctx, targets[i].w->view, x, n_tokens, targets[i].y);
      } else {
        matmul_group(ctx, &targets[i], 1, x, n_tokens, false);
      }
    }
    return;
  }
  struct Job {
    const WeightMatrix* w;
    float* y;
    const kernels::WeightKernels* wk;
    bool quantizes;        // owns its activation buffer (the first of the group with its type)
    size_t act_offset;     // where its activations start in scratch.quantized
    size_t act_row_bytes;
    int64_t first_row;     // in the group's combined row range
  };
  Job jobs[kMaxGroup];
  size_t quantized_bytes = 0;
  int64_t total_rows = 0;
  for (int i = 0; i < n_targets; ++i) {
    const MatrixView& w = targets[i].w->view;
    const kernels::WeightKernels& wk = k.for_type(w.type);
    const GGMLTypeInfo& act = ggml_type_info(wk.activation_type);
    Job job{targets[i].w, targets[i].y, &wk, false, 0, static_cast<size_t>(w.cols / act.block_size) * act.type_size, total_rows};
    total_rows += w.rows;
    // Activations are quantized once per activation type the group needs (Q, K and V share one).
    if (wk.activation_type != GGMLType::F32) {
      job.quantizes = true;
      for (int j = 0; j < i; ++j) {
        if (jobs[j].wk->activation_type == wk.activation_type) {
          job.quantizes = false;
          job.act_offset = jobs[j].act_offset;
          break;
        }
      }
      if (job.quantizes) {
        job.act_offset = quantized_bytes;
        quantized_bytes += job.act_row_bytes * static_cast<size_t>(n_tokens);
      }
    }
    jobs[i] = job;
  }
  if (scratch.quantized.size() < quantized_bytes) scratch.quantized.resize(quantized_bytes);
  if (quantized_bytes > 0) {
    const int64_t cols = targets[0].w->view.cols;
    pool.parallel_for(n_tokens, [&](int64_t t0, int64_t t1) {
      for (int i = 0; i < n_targets; ++i) {
        if (!jobs[i].quantizes) continue;
        const kernels::QuantizeRowFn quantize = k.quantizer(jobs[i].wk->activation_type);
        uint8_t* out = scratch.quantized.data() + jobs[i].act_offset;
        for (int64_t t = t0; t < t1; ++t) quantize(x + t * cols, out + static_cast<size_t>(t) * jobs[i].act_row_bytes, cols);
      }
    });
  }
  // Threads split the rows in units of kRowGrain so each range is whole tiles (a row left over at
  // a split would take the slower one-row dot).
  constexpr int64_t kRowGrain = 16;
  pool.parallel_for((total_rows + kRowGrain - 1) / kRowGrain, [&](int64_t unit_begin, int64_t unit_end) {
    const int64_t begin = unit_begin * kRowGrain, end = std::min(total_rows, unit_end * kRowGrain);
    for (int i = 0; i < n_targets; ++i) {
      const Job& job = jobs[i];
      const int64_t r0 = std::max(begin, job.first_row) - job.first_row;
      const int64_t r1 = std::min(end, job.first_row + job.w->view.rows) - job.first_row;
      if (r0 >= r1) continue;
      const uint8_t* act = job.wk->activation_type == GGMLType::F32 ? reinterpret_cast<const uint8_t*>(x)
                                                                     : scratch.quantized.data() + job.act_offset;
      matmul_rows(*job.wk, *job.w, act, job.act_row_bytes, n_tokens, job.y, r0, r1);
    }
  });
}

void embedding_row(const Context& ctx, const MatrixView& table, int64_t index, float* out) {
  const kernels::DequantizeRowFn fn = ctx.kernels.for_type(table.type).dequantize;
  if (fn == nullptr) throw UnsupportedError(std::string("cannot read embeddings of type ") + ggml_type_name(table.type));
  fn(table.row(index), out, table.cols);
}

void store_kv_row(const Context& ctx, GGMLType type, const float* x, uint8_t* row, int64_t n) {
  if (type == GGMLType::F16) {
    auto* halves = reinterpret_cast<uint16_t*>(row);
    for (int64_t i = 0; i < n; ++i) halves[i] = fp32_to_fp16(x[i]);
  } else {
    ctx.kernels.quantizer(type)(x, row, n);
  }
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

}  // namespace ple::ops
