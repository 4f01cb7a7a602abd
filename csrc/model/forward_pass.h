// The Llama forward pass over a batch of token rows from one or more sequences: a session's
// prefill or decode step, or one step of several sessions of the same model batched together
// (model/session_batcher.h). Matrix products run once over all rows, so the weights are read
// once per step; RoPE, the KV-cache writes and attention are per sequence, each on its own cache.
// Every row's result is the one the sequence would get alone (the kernels' outputs do not depend
// on the batch: kernel_table.h).
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "core/thread_pool.h"
#include "model/kv_cache.h"
#include "model/llama_model.h"
#include "ops/context.h"

namespace ple {

// What a sequence needs after the layers: its last token's logits (prompt and decode), every
// token's (evaluation, verification of a draft), or none: the hidden states after the output
// norm, left in ForwardScratch::xn as [n][n_embd] (embeddings; a single sequence only).
enum class ForwardOutput { LastLogits, AllLogits, HiddenStates };

// n tokens of one sequence at positions n_past.. of its cache. logits_out: [n_vocab] for
// LastLogits, [n][n_vocab] for AllLogits, unused for HiddenStates.
struct ForwardSequence {
  KVCache* cache = nullptr;
  const int32_t* tokens = nullptr;
  int64_t n = 0;
  int64_t n_past = 0;
  ForwardOutput output = ForwardOutput::LastLogits;
  float* logits_out = nullptr;
};

// Activations of up to `rows` token rows, allocated once; logits of several sequences are
// gathered in `logits` and copied out (one output-head product for all of them).
struct ForwardScratch {
  void reserve(const LlamaHParams& hp, int64_t rows);
  int64_t rows = 0;
  std::vector<float> x, xn, q, k, v, attn, gate, up, logits;
  std::vector<int64_t> position, output_rows;
  std::vector<const ForwardSequence*> row_sequence;
  ops::AttentionScratch attention;
  ops::MatmulScratch matmul;
};

// Runs the layers over the sequences' tokens (at most scratch.rows in all) and writes their K/V
// into their caches. `before_layer`, if set, runs on the calling thread before each layer and may
// throw to abandon the pass (the caches' rows past each history are then overwritten later).
void forward_pass(const LlamaModel& model, ThreadPool& pool, ForwardScratch& scratch, const ForwardSequence* sequences,
                  size_t n_sequences, bool float_activations, const std::function<void()>& before_layer);

}  // namespace ple
