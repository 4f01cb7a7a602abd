#include "ops/attention.h"

#include <cmath>

#include "kernels/kernel_table.h"
#include "ops/ops.h"

namespace ple::ops {

void attention(const float* q, const KVLayer& kv, int64_t n_tokens, int64_t first_pos, const AttentionShape& shape,
               float* out, ThreadPool& pool, AttentionScratch& scratch) {
  const int64_t hd = shape.head_dim;
  const int64_t n_ctx_used = first_pos + n_tokens;
  const int64_t group = shape.n_head / shape.n_head_kv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const size_t n_threads_max = static_cast<size_t>(pool.size());
  const size_t scores_per_thread = static_cast<size_t>(n_ctx_used);
  if (scratch.scores.size() < scores_per_thread * n_threads_max) scratch.scores.resize(scores_per_thread * n_threads_max);
  const kernels::KernelTable& k = kernels::active_kernels();
  const bool quantized = kv.type == GGMLType::Q8_0;
  // A Q8_0 K cache is read with the Q8_0 x Q8_0 dot, so each query head is quantized once (as
  // llama.cpp does); a cache line per thread keeps the threads' query blocks apart.
  const size_t query_bytes = quantized ? (kv.head_bytes + 63) / 64 * 64 : 0;
  if (scratch.query_blocks.size() < query_bytes * n_threads_max) scratch.query_blocks.resize(query_bytes * n_threads_max);
  const kernels::DotFn dot_q8 = k.for_type(GGMLType::Q8_0).dot;
  const kernels::QuantizeRowFn quantize_q8 = k.quantizer(GGMLType::Q8_0);
  const kernels::DotF16F32Fn dot_f16 = k.dot_f16_f32;
  const kernels::AxpyF16Fn axpy_f16 = k.axpy_f16;
  const kernels::AxpyQ8_0Fn axpy_q8 = k.axpy_q8_0;
  const int64_t n_tasks = n_tokens * shape.n_head;

  pool.run([&](int thread, int n_threads) {
    float* s = scratch.scores.data() + scores_per_thread * static_cast<size_t>(thread);
    uint8_t* qq = scratch.query_blocks.data() + query_bytes * static_cast<size_t>(thread);
    // Tasks are dealt round-robin: with causal attention a task's cost grows with its token's
    // position, so contiguous ranges gave the last thread of a prefill most of the work.
    for (int64_t task = thread; task < n_tasks; task += n_threads) {
      const int64_t t = task / shape.n_head;
      const int64_t h = task % shape.n_head;
      const size_t head_offset = static_cast<size_t>(h / group) * kv.head_bytes;
      const int64_t n_visible = first_pos + t + 1;
      const float* qh = q + t * shape.n_head * hd + h * hd;
      const uint8_t* k_head = kv.k + head_offset;
      const uint8_t* v_head = kv.v + head_offset;
      if (quantized) {
        quantize_q8(qh, qq, hd);
        for (int64_t p = 0; p < n_visible; ++p) s[p] = dot_q8(hd, k_head + p * kv.row_bytes, qq) * scale;
      } else {
        for (int64_t p = 0; p < n_visible; ++p) {
          s[p] = dot_f16(hd, reinterpret_cast<const uint16_t*>(k_head + p * kv.row_bytes), qh) * scale;
        }
      }
      softmax(s, n_visible);
      float* oh = out + t * shape.n_head * hd + h * hd;
      for (int64_t i = 0; i < hd; ++i) oh[i] = 0.0f;
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
