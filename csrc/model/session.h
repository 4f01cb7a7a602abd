// One conversation's state over a shared Model: the KV cache (F16 or Q8_0), token history and
// scratch buffers (allocated once, at construction); the thread pool is the model's, shared with
// its other sessions. Not shareable between threads: concurrent use raises ConcurrentUseError
// instead of corrupting the cache.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "model/forward_pass.h"
#include "model/generator.h"
#include "model/kv_cache.h"
#include "model/llama_model.h"
#include "model/model.h"
#include "model/session_batcher.h"
#include "ops/attention.h"
#include "ops/ops.h"

namespace ple {

struct SessionConfig {
  int64_t n_ctx = 0;    // 0: min(4096, model context length)
  int64_t n_batch = 512;
  int n_threads = 0;    // 0: the model's default (performance/physical cores); pools are per Model
  bool float_activations = false;  // see ops::matmul: slower, for evaluation against a float reference
  GGMLType kv_type = GGMLType::F16;  // F16 or Q8_0 (half the memory; see model/kv_cache.h)
};

// How Session::embed reduces a text's hidden states (after the output norm) to one vector: the
// mean over its tokens, the first token's ("cls") or the last token's. GGUF's <arch>.pooling_type
// numbers them 1, 2 and 3.
enum class Pooling { Mean, Cls, Last };

class Session {
 public:
  Session(std::shared_ptr<const Model> model, const SessionConfig& config);

  // The one entry point for generation: tokenizes a text prompt, checks it and the parameters
  // (InvalidArgument, ContextOverflowError) before any work, and returns the decode loop, which
  // runs as its pieces are pulled. The session must outlive the generator; one generator at a time.
  std::unique_ptr<Generator> generate(const Prompt& prompt, const GenerateParams& params);
  // The checks every evaluation makes, in one place: non-empty, ids in the vocabulary, fits n_ctx.
  void check_prompt(const std::vector<int32_t>& tokens) const;

  // Makes the history equal `tokens`, reusing the longest common prefix already in the cache;
  // afterwards logits() are the next-token logits after tokens.back(). Returns how many tokens
  // were evaluated. Throws ContextOverflowError when tokens do not fit n_ctx.
  int64_t set_tokens(const std::vector<int32_t>& tokens);
  // Appends one token (a decode step).
  void append(int32_t token);
  // Speculative decoding's verification step: appends n tokens (at most n_batch) in one batched
  // forward pass, the prefill path, whose logits equal a decode step's bit for bit
  // (tests/test_speculative.py), and keeps every position's: batch_logits(i) follows tokens[i].
  void append_batch(const int32_t* tokens, int64_t n);
  const float* batch_logits(int64_t i) const { return logits_batch_.data() + i * n_vocab(); }
  // Keeps the first n_kept (1 to n) tokens of the last append_batch and drops the rest from the
  // history; their cache positions are overwritten by the next evaluation, never shifted.
  // Afterwards logits() follow the last kept token.
  void keep_batch_prefix(int64_t n_kept);
  // Teacher-forced logits of every position: out is [tokens.size()][n_vocab]. Resets history.
  void evaluate_all(const std::vector<int32_t>& tokens, float* out);
  // Embeddings (model/embedding.cpp): each text's hidden states after the output norm, without
  // the output head, pooled and, with normalize, scaled to unit L2 norm: out is
  // [texts.size()][n_embd]. Each text is evaluated on its own from position 0, in n_batch chunks,
  // so none sees another; afterwards the history is empty. Every text is checked (non-empty, ids
  // in the vocabulary, fits n_ctx) before any work.
  void embed(const std::vector<std::vector<int32_t>>& texts, Pooling pooling, bool normalize, float* out);

  const float* logits() const { return last_logits_.data(); }
  const std::vector<int32_t>& history() const { return history_; }
  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_batch() const { return n_batch_; }
  int64_t n_vocab() const { return model_->hparams().n_vocab; }
  int64_t n_embd() const { return model_->hparams().n_embd; }
  int n_threads() const { return pool_.size(); }
  const Tokenizer& tokenizer() const { return owner_->tokenizer(); }
  uint64_t kv_cache_bytes() const { return kv_cache_.bytes(); }
  GGMLType kv_type() const { return kv_cache_.type(); }
  const LlamaModel& model() const { return *model_; }
  const std::shared_ptr<const Model>& owner() const { return owner_; }
  void reset() {
    history_.clear();
    batch_start_ = -1;
  }

  // Called on the calling thread before each layer of every forward pass; it may throw to abandon
  // the call (the Python layer raises KeyboardInterrupt there, so Ctrl-C stops a long prefill
  // within one layer). The session stays consistent: its history covers whole batches only, and
  // the cache positions after it are overwritten by the next call.
  void set_interrupt_check(std::function<void()> check) { interrupt_check_ = std::move(check); }

  // Batched decoding with other sessions of the same model (model/session_batcher.h): from now
  // on this session's prompt and decode passes run in the batcher's passes, its prompts
  // prefill_chunk tokens at a time. Results are unchanged bit for bit. InvalidArgument when the
  // batcher is for another model or thread count, or the session uses float activations.
  // nullptr detaches.
  void set_batcher(std::shared_ptr<SessionBatcher> batcher);
  const std::shared_ptr<SessionBatcher>& batcher() const { return batcher_; }
  // Prompt tokens per forward pass: n_batch, or the batcher's prefill_chunk when smaller.
  int64_t prompt_chunk() const {
    return batcher_ ? std::min(n_batch_, batcher_->config().prefill_chunk) : n_batch_;
  }

  // Saved sessions (model/session_io.cpp): KV cache of the history, the tokens and the last
  // logits, so a restored session continues exactly where this one stopped. load() checks the
  // format version, the model fingerprint, the sizes and a checksum; FormatError when any differs.
  void save(const std::string& path) const;
  void load(const std::string& path);

  // RAII guard against two threads inside one session.
  class Use {
   public:
    explicit Use(const Session& s);
    ~Use();
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;

   private:
    const Session& s_;
  };

 private:
  // Runs the forward pass over n tokens at positions n_past.. and writes their K/V into the
  // cache (model/forward_pass.h): through the batcher when the session has one, except hidden
  // states, which only this session's scratch returns.
  void forward(const int32_t* tokens, int64_t n, int64_t n_past, ForwardOutput output, float* logits_out);

  std::shared_ptr<const Model> owner_;
  std::shared_ptr<const LlamaModel> model_;  // owner_->weights(), what the forward pass reads
  int64_t n_ctx_;
  int64_t n_batch_;
  bool float_activations_;
  std::shared_ptr<ThreadPool> pool_owner_;
  ThreadPool& pool_;
  std::function<void()> interrupt_check_;
  std::vector<int32_t> history_;
  KVCache kv_cache_;
  ForwardScratch scratch_;  // n_batch rows, reserved at the first unbatched pass
  std::shared_ptr<SessionBatcher> batcher_;
  // [batch][n_vocab], sized by append_batch.
  std::vector<float> logits_batch_;
  std::vector<float> last_logits_;
  int64_t batch_start_ = -1, batch_size_ = 0;  // the last append_batch's tokens in history_
  mutable std::atomic<bool> in_use_{false};
};

// The KV-cache type a session file was saved with; FormatError when it is not a session file of
// this format version or names an unknown type (the full checks happen in Session::load).
GGMLType session_file_kv_type(const std::string& path);

}  // namespace ple
