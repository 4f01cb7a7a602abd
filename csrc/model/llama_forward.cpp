// The Llama forward pass over a batch of n tokens (prefill when n > 1, decode when n == 1).
// Shapes in comments: B = tokens in this batch, D = n_embd, Q = n_head*head_dim,
// KV = n_head_kv*head_dim, F = n_ff, V = n_vocab. Calls ops only; no SIMD, no allocation.
#include <algorithm>

#include "model/session.h"
#include "ops/attention.h"
#include "ops/ops.h"

namespace ple {

void Session::forward(const int32_t* tokens, int64_t n, int64_t n_past, ForwardOutput output, float* logits_out) {
  const LlamaModel& m = *model_;
  const LlamaHParams& hp = m.hparams();
  const int64_t D = hp.n_embd, Q = hp.q_dim(), KV = hp.kv_dim(), F = hp.n_ff;
  const ops::AttentionShape shape{hp.n_head, hp.n_head_kv, hp.head_dim};
  const ops::Context ctx{m.kernels(), pool_, matmul_scratch_, attention_scratch_};

  // x[B][D] = token embeddings
  for (int64_t t = 0; t < n; ++t) ops::embedding_row(ctx, m.token_embd(), tokens[t], &x_[t * D]);

  // Elementwise work is split over the pool when a batch has several tokens (per token) or, for
  // silu, enough elements; each element's arithmetic is the same whichever thread does it.
  const auto per_token = [&](const auto& fn) {
    if (n > 1) {
      pool_.parallel_for(n, [&](int64_t t0, int64_t t1) { for (int64_t t = t0; t < t1; ++t) fn(t); });
    } else {
      fn(0);
    }
  };
  const auto add_residual = [&]() {  // x += xn
    per_token([&](int64_t t) { for (int64_t i = t * D; i < (t + 1) * D; ++i) x_[i] += xn_[i]; });
  };
  constexpr int64_t kSiluChunk = 4096;
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    if (interrupt_check_) interrupt_check_();
    const LlamaLayer& layer = m.layers()[static_cast<size_t>(l)];

    // Attention block: xn = rmsnorm(x); q,k,v = W xn; rotate q,k; append k,v; attend; x += Wo a
    per_token([&](int64_t t) { ops::rmsnorm(&x_[t * D], layer.attn_norm.data(), D, hp.rms_eps, &xn_[t * D]); });
    const ops::MatmulTarget qkv[] = {{&layer.wq, q_.data()}, {&layer.wk, k_.data()}, {&layer.wv, v_.data()}};
    ops::matmul_group(ctx, qkv, 3, xn_.data(), n, float_activations_);  // q[B][Q], k,v[B][KV]
    per_token([&](int64_t t) {
      const int64_t pos = n_past + t;
      ops::rope(&q_[t * Q], hp.n_head, hp.head_dim, hp.n_rot, pos, m.rope_inv_freq().data());
      ops::rope(&k_[t * KV], hp.n_head_kv, hp.head_dim, hp.n_rot, pos, m.rope_inv_freq().data());
      kv_cache_.store(ctx, l, pos, &k_[t * KV], &v_[t * KV]);  // distinct rows per token
    });
    ops::attention(ctx, q_.data(), kv_cache_.layer(l), n, n_past, shape, attn_.data());  // attn[B][Q]
    ops::matmul(ctx, layer.wo, attn_.data(), n, xn_.data(), float_activations_);  // xn[B][D]
    add_residual();

    // Feed-forward block: x += W_down (silu(W_gate xn) * W_up xn), xn = rmsnorm(x)
    per_token([&](int64_t t) { ops::rmsnorm(&x_[t * D], layer.ffn_norm.data(), D, hp.rms_eps, &xn_[t * D]); });
    const ops::MatmulTarget gate_up[] = {{&layer.w_gate, gate_.data()}, {&layer.w_up, up_.data()}};
    ops::matmul_group(ctx, gate_up, 2, xn_.data(), n, float_activations_);  // gate,up[B][F]
    pool_.parallel_for((n * F + kSiluChunk - 1) / kSiluChunk, [&](int64_t c0, int64_t c1) {
      const int64_t begin = c0 * kSiluChunk, end = std::min(n * F, c1 * kSiluChunk);
      ops::silu_mul(gate_.data() + begin, up_.data() + begin, end - begin);
    });
    ops::matmul(ctx, layer.w_down, gate_.data(), n, xn_.data(), float_activations_);  // xn[B][D]
    add_residual();
  }

  // Output norm of the rows wanted, xn[rows][D]; hidden states (embeddings) stop here, before the
  // output head.
  const int64_t first = output == ForwardOutput::LastLogits ? n - 1 : 0;
  const int64_t rows = n - first;
  per_token([&](int64_t t) {
    if (t >= first) ops::rmsnorm(&x_[t * D], m.output_norm().data(), D, hp.rms_eps, &xn_[(t - first) * D]);
  });
  if (output == ForwardOutput::HiddenStates) return;
  ops::matmul(ctx, m.output(), xn_.data(), rows, logits_out, float_activations_);  // logits[rows][V]
}

}  // namespace ple
