#include "ops/attention.h"

#include <cmath>

#include "kernels/kernel_table.h"
#include "ops/ops.h"

namespace ple::ops {

void attention(const float* q, const uint16_t* k_cache, const uint16_t* v_cache, int64_t n_tokens,
               int64_t first_pos, const AttentionShape& shape, float* out, ThreadPool& pool,
               std::vector<float>& scores) {
  const int64_t hd = shape.head_dim;
  const int64_t n_ctx_used = first_pos + n_tokens;
  const int64_t group = shape.n_head / shape.n_head_kv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const size_t per_thread = static_cast<size_t>(n_ctx_used);
  if (scores.size() < per_thread * static_cast<size_t>(pool.size())) scores.resize(per_thread * pool.size());
  const int64_t n_tasks = n_tokens * shape.n_head;
  const kernels::KernelTable& k = kernels::active_kernels();
  const kernels::DotF16F32Fn dot_f16 = k.dot_f16_f32;
  const kernels::AxpyF16Fn axpy_f16 = k.axpy_f16;

  pool.run([&](int thread, int n_threads) {
    float* s = scores.data() + per_thread * static_cast<size_t>(thread);
    for (int64_t task = n_tasks * thread / n_threads; task < n_tasks * (thread + 1) / n_threads; ++task) {
      const int64_t t = task / shape.n_head;
      const int64_t h = task % shape.n_head;
      const int64_t kv_h = h / group;
      const int64_t n_visible = first_pos + t + 1;
      const float* qh = q + t * shape.n_head * hd + h * hd;
      for (int64_t p = 0; p < n_visible; ++p) {
        s[p] = dot_f16(hd, k_cache + p * shape.kv_stride + kv_h * hd, qh) * scale;
      }
      softmax(s, n_visible);
      float* oh = out + t * shape.n_head * hd + h * hd;
      for (int64_t i = 0; i < hd; ++i) oh[i] = 0.0f;
      for (int64_t p = 0; p < n_visible; ++p) axpy_f16(hd, s[p], v_cache + p * shape.kv_stride + kv_h * hd, oh);
    }
  });
}

}  // namespace ple::ops
