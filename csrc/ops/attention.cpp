#include "ops/attention.h"

#include <cmath>

#include "kernels/kernel_table.h"
#include "ops/ops.h"

namespace ple::ops {

void attention(const Context& ctx, const float* q, const KVLayer& kv, int64_t n_tokens, int64_t first_pos,
               const AttentionShape& shape, float* out) {
  ThreadPool& pool = ctx.pool;
  AttentionScratch& scratch = ctx.attention;
  const int64_t hd = shape.head_dim;
  const int64_t n_ctx_used = first_pos + n_tokens;
  const int64_t group = shape.n_head / shape.n_head_kv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const kernels::KernelTable& k = ctx.kernels;
  const bool quantized = kv.type == GGMLType::Q8_0;
  // An F16 cache read by the table's multi-head kernels: one task per (token, KV head) attends
  // for the whole group of query heads sharing that KV head, so each cached row is converted
  // once per group. Used when there are enough tasks to keep every thread busy (a one-token
  // decode with few KV heads keeps one task per query head); the results are the same either way.
  const int n_threads_max = pool.size();
  const bool grouped = !quantized && k.attend_scores_f16 != nullptr && k.attend_values_f16 != nullptr &&
                       hd <= kernels::kMaxAttendHeadDim && n_tokens * shape.n_head_kv >= 4 * n_threads_max;
  const int64_t heads_per_task = grouped ? group : 1;
  const size_t n_threads = static_cast<size_t>(n_threads_max);
  const size_t scores_per_thread = static_cast<size_t>(n_ctx_used) * static_cast<size_t>(heads_per_task);
  if (scratch.scores.size() < scores_per_thread * n_threads) scratch.scores.resize(scores_per_thread * n_threads);
  // A Q8_0 K cache is read with the Q8_0 x Q8_0 dot, so each query head is quantized once (as
  // llama.cpp does); a cache line per thread keeps the threads' query blocks apart.
  const size_t query_bytes = quantized ? (kv.head_bytes + 63) / 64 * 64 : 0;
  if (scratch.query_blocks.size() < query_bytes * n_threads) scratch.query_blocks.resize(query_bytes * n_threads);
  const kernels::DotFn dot_q8 = k.for_type(GGMLType::Q8_0).dot;
  const kernels::QuantizeRowFn quantize_q8 = k.quantizer(GGMLType::Q8_0);
  const kernels::DotF16F32Fn dot_f16 = k.dot_f16_f32;
  const kernels::AxpyF16Fn axpy_f16 = k.axpy_f16;
  const kernels::AxpyQ8_0Fn axpy_q8 = k.axpy_q8_0;
  const int64_t heads = shape.n_head / heads_per_task;  // tasks per token
  const int64_t n_tasks = n_tokens * heads;
  const size_t row_halves = kv.row_bytes / sizeof(uint16_t);

  pool.run([&](int thread, int n_run) {
    float* s = scratch.scores.data() + scores_per_thread * static_cast<size_t>(thread);
    uint8_t* qq = scratch.query_blocks.data() + query_bytes * static_cast<size_t>(thread);
    // Tasks are dealt round-robin: with causal attention a task's cost grows with its token's
    // position, so contiguous ranges gave the last thread of a prefill most of the work.
    for (int64_t task = thread; task < n_tasks; task += n_run) {
      const int64_t t = task / heads;
      const int64_t h = task % heads * heads_per_task;  // first query head of the task
      const size_t head_offset = static_cast<size_t>(h / group) * kv.head_bytes;
      const int64_t n_visible = first_pos + t + 1;
      const float* qh = q + t * shape.n_head * hd + h * hd;
      float* oh = out + t * shape.n_head * hd + h * hd;
      const uint8_t* k_head = kv.k + head_offset;
      const uint8_t* v_head = kv.v + head_offset;
      for (int64_t i = 0; i < hd * heads_per_task; ++i) oh[i] = 0.0f;
      if (grouped) {
        const auto* k16 = reinterpret_cast<const uint16_t*>(k_head);
        const auto* v16 = reinterpret_cast<const uint16_t*>(v_head);
        const size_t stride = static_cast<size_t>(n_visible);
        k.attend_scores_f16(n_visible, hd, k16, row_halves, qh, static_cast<size_t>(hd), heads_per_task, scale, s, stride);
        for (int64_t j = 0; j < heads_per_task; ++j) k.softmax(s + static_cast<size_t>(j) * stride, n_visible);
        k.attend_values_f16(n_visible, hd, v16, row_halves, s, stride, heads_per_task, oh, static_cast<size_t>(hd));
        continue;
      }
      if (quantized) {
        quantize_q8(qh, qq, hd);
        for (int64_t p = 0; p < n_visible; ++p) s[p] = dot_q8(hd, k_head + p * kv.row_bytes, qq) * scale;
      } else {
        for (int64_t p = 0; p < n_visible; ++p) {
          s[p] = dot_f16(hd, reinterpret_cast<const uint16_t*>(k_head + p * kv.row_bytes), qh) * scale;
        }
      }
      k.softmax(s, n_visible);
      if (quantized) {
        for (int64_t p = 0; p < n_visible; ++p) axpy_q8(hd, s[p], v_head + p * kv.row_bytes, oh);
      } else {
        for (int64_t p = 0; p < n_visible; ++p) {
          axpy_f16(hd, s[p], reinterpret_cast<const uint16_t*>(v_head + p * kv.row_bytes), oh);
        }
      }
    }
  });
}

}  // namespace ple::ops
