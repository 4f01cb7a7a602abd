// The Llama forward pass over a batch of token rows (model/forward_pass.h). Shapes in comments:
// B = rows in this batch (all sequences), D = n_embd, Q = n_head*head_dim,
// KV = n_head_kv*head_dim, F = n_ff, V = n_vocab. Calls ops only; no SIMD, no allocation once
// the scratch has seen the batch's shape.
#include "model/forward_pass.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "ops/attention.h"
#include "ops/ops.h"

namespace ple {

void ForwardScratch::reserve(const LlamaHParams& hp, int64_t n_rows) {
  if (n_rows <= rows) return;
  rows = n_rows;
  const size_t b = static_cast<size_t>(n_rows);
  x.resize(b * hp.n_embd);
  xn.resize(b * hp.n_embd);
  q.resize(b * hp.q_dim());
  k.resize(b * hp.kv_dim());
  v.resize(b * hp.kv_dim());
  attn.resize(b * hp.q_dim());
  gate.resize(b * hp.n_ff);
  up.resize(b * hp.n_ff);
  position.resize(b);
  row_sequence.resize(b);
  output_rows.reserve(b);
}

void forward_pass(const LlamaModel& m, ThreadPool& pool, ForwardScratch& s, const ForwardSequence* seqs, size_t n_seqs,
                  bool float_activations, const std::function<void()>& before_layer) {
  const LlamaHParams& hp = m.hparams();
  const int64_t D = hp.n_embd, Q = hp.q_dim(), KV = hp.kv_dim(), F = hp.n_ff, V = hp.n_vocab;
  const ops::AttentionShape shape{hp.n_head, hp.n_head_kv, hp.head_dim};
  const ops::Context ctx{m.kernels(), pool, s.matmul, s.attention};

  // Rows in sequence order; each row's position and sequence.
  int64_t n = 0;
  for (size_t i = 0; i < n_seqs; ++i) {
    if (seqs[i].n < 1) throw InvalidArgument("forward_pass: a sequence has no tokens");
    if (seqs[i].output == ForwardOutput::HiddenStates && n_seqs > 1) {
      throw InvalidArgument("forward_pass: hidden states are returned for a single sequence only");
    }
    n += seqs[i].n;
  }
  if (n > s.rows) throw InvalidArgument("forward_pass: " + std::to_string(n) + " rows exceed the scratch's " + std::to_string(s.rows));
  std::vector<int64_t>& position = s.position;
  std::vector<const ForwardSequence*>& row_sequence = s.row_sequence;
  for (size_t i = 0, row = 0; i < n_seqs; ++i) {
    for (int64_t t = 0; t < seqs[i].n; ++t, ++row) {
      position[row] = seqs[i].n_past + t;
      row_sequence[row] = &seqs[i];
    }
  }

  // x[B][D] = token embeddings
  for (size_t i = 0, row = 0; i < n_seqs; ++i) {
    for (int64_t t = 0; t < seqs[i].n; ++t, ++row) ops::embedding_row(ctx, m.token_embd(), seqs[i].tokens[t], &s.x[row * D]);
  }

  // Elementwise work is split over the pool when a batch has several rows (per row) or, for
  // silu, enough elements; each element's arithmetic is the same whichever thread does it.
  const auto per_row = [&](const auto& fn) {
    if (n > 1) {
      pool.parallel_for(n, [&](int64_t r0, int64_t r1) { for (int64_t r = r0; r < r1; ++r) fn(r); });
    } else {
      fn(0);
    }
  };
  const auto add_residual = [&]() {  // x += xn
    per_row([&](int64_t r) { for (int64_t i = r * D; i < (r + 1) * D; ++i) s.x[i] += s.xn[i]; });
  };
  constexpr int64_t kSiluChunk = 4096;
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    if (before_layer) before_layer();
    const LlamaLayer& layer = m.layers()[static_cast<size_t>(l)];

    // Attention block: xn = rmsnorm(x); q,k,v = W xn; rotate q,k; append k,v; attend; x += Wo a
    per_row([&](int64_t r) { ops::rmsnorm(&s.x[r * D], layer.attn_norm.data(), D, hp.rms_eps, &s.xn[r * D]); });
    const ops::MatmulTarget qkv[] = {{&layer.wq, s.q.data()}, {&layer.wk, s.k.data()}, {&layer.wv, s.v.data()}};
    ops::matmul_group(ctx, qkv, 3, s.xn.data(), n, float_activations);  // q[B][Q], k,v[B][KV]
    per_row([&](int64_t r) {
      const int64_t pos = position[r];
      ops::rope(&s.q[r * Q], hp.n_head, hp.head_dim, hp.n_rot, pos, m.rope_inv_freq().data());
      ops::rope(&s.k[r * KV], hp.n_head_kv, hp.head_dim, hp.n_rot, pos, m.rope_inv_freq().data());
      row_sequence[r]->cache->store(ctx, l, pos, &s.k[r * KV], &s.v[r * KV]);  // distinct rows per token
    });
    for (size_t i = 0, row = 0; i < n_seqs; row += seqs[i].n, ++i) {  // attn[B][Q], each sequence on its own cache
      ops::attention(ctx, &s.q[row * Q], seqs[i].cache->layer(l), seqs[i].n, seqs[i].n_past, shape, &s.attn[row * Q]);
    }
    ops::matmul(ctx, layer.wo, s.attn.data(), n, s.xn.data(), float_activations);  // xn[B][D]
    add_residual();

    // Feed-forward block: x += W_down (silu(W_gate xn) * W_up xn), xn = rmsnorm(x)
    per_row([&](int64_t r) { ops::rmsnorm(&s.x[r * D], layer.ffn_norm.data(), D, hp.rms_eps, &s.xn[r * D]); });
    const ops::MatmulTarget gate_up[] = {{&layer.w_gate, s.gate.data()}, {&layer.w_up, s.up.data()}};
    ops::matmul_group(ctx, gate_up, 2, s.xn.data(), n, float_activations);  // gate,up[B][F]
    const kernels::SiluMulFn silu_mul = ctx.kernels.silu_mul;
    pool.parallel_for((n * F + kSiluChunk - 1) / kSiluChunk, [&](int64_t c0, int64_t c1) {
      const int64_t begin = c0 * kSiluChunk, end = std::min(n * F, c1 * kSiluChunk);
      silu_mul(s.gate.data() + begin, s.up.data() + begin, end - begin);
    });
    ops::matmul(ctx, layer.w_down, s.gate.data(), n, s.xn.data(), float_activations);  // xn[B][D]
    add_residual();
  }

  // The rows whose output is wanted, output-normed into xn[rows][D]; hidden states (embeddings)
  // stop here, before the output head.
  std::vector<int64_t>& out_rows = s.output_rows;
  out_rows.clear();
  for (size_t i = 0, row = 0; i < n_seqs; row += seqs[i].n, ++i) {
    const int64_t first = seqs[i].output == ForwardOutput::LastLogits ? seqs[i].n - 1 : 0;
    for (int64_t t = first; t < seqs[i].n; ++t) out_rows.push_back(static_cast<int64_t>(row) + t);
  }
  const int64_t rows = static_cast<int64_t>(out_rows.size());
  const auto per_output_row = [&](int64_t j) {
    ops::rmsnorm(&s.x[out_rows[j] * D], m.output_norm().data(), D, hp.rms_eps, &s.xn[j * D]);
  };
  if (rows > 1) {
    pool.parallel_for(rows, [&](int64_t j0, int64_t j1) { for (int64_t j = j0; j < j1; ++j) per_output_row(j); });
  } else {
    per_output_row(0);
  }
  if (seqs[0].output == ForwardOutput::HiddenStates) return;
  if (n_seqs == 1) {
    ops::matmul(ctx, m.output(), s.xn.data(), rows, seqs[0].logits_out, float_activations);  // logits[rows][V]
    return;
  }
  // Several sequences: one product over all their rows, then each sequence's rows to its buffer.
  const size_t need = static_cast<size_t>(rows) * static_cast<size_t>(V);
  if (s.logits.size() < need) s.logits.resize(need);
  ops::matmul(ctx, m.output(), s.xn.data(), rows, s.logits.data(), float_activations);
  for (size_t i = 0, j = 0; i < n_seqs; ++i) {
    const size_t count = seqs[i].output == ForwardOutput::LastLogits ? 1 : static_cast<size_t>(seqs[i].n);
    std::memcpy(seqs[i].logits_out, s.logits.data() + j * static_cast<size_t>(V), count * static_cast<size_t>(V) * sizeof(float));
    j += count;
  }
}

}  // namespace ple
