// One conversation's state over a shared LlamaModel: the KV cache (F16 or Q8_0), token history, scratch
// buffers (allocated once, at construction) and a thread pool. Not shareable between threads:
// concurrent use raises ConcurrentUseError instead of corrupting the cache.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "model/kv_cache.h"
#include "model/llama_model.h"
#include "ops/ops.h"

namespace ple {

struct SessionConfig {
  int64_t n_ctx = 0;    // 0: min(4096, model context length)
  int64_t n_batch = 512;
  int n_threads = 0;    // 0: physical cores
  bool float_activations = false;  // see ops::matmul: slower, for evaluation against a float reference
  GGMLType kv_type = GGMLType::F16;  // F16 or Q8_0 (half the memory; see model/kv_cache.h)
};

class Session {
 public:
  Session(std::shared_ptr<const LlamaModel> model, const SessionConfig& config);

  // Makes the history equal `tokens`, reusing the longest common prefix already in the cache;
  // afterwards logits() are the next-token logits after tokens.back(). Returns how many tokens
  // were evaluated. Throws ContextOverflowError when tokens do not fit n_ctx.
  int64_t set_tokens(const std::vector<int32_t>& tokens);
  // Appends one token (a decode step).
  void append(int32_t token);
  // Teacher-forced logits of every position: out is [tokens.size()][n_vocab]. Resets history.
  void evaluate_all(const std::vector<int32_t>& tokens, float* out);

  const float* logits() const { return last_logits_.data(); }
  const std::vector<int32_t>& history() const { return history_; }
  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_vocab() const { return model_->hparams().n_vocab; }
  int n_threads() const { return pool_.size(); }
  uint64_t kv_cache_bytes() const { return kv_cache_.bytes(); }
  GGMLType kv_type() const { return kv_cache_.type(); }
  const LlamaModel& model() const { return *model_; }
  void reset() { history_.clear(); }

  // Called on the calling thread before each layer of every forward pass; it may throw to abandon
  // the call (the Python layer raises KeyboardInterrupt there, so Ctrl-C stops a long prefill
  // within one layer). The session stays consistent: its history covers whole batches only, and
  // the cache positions after it are overwritten by the next call.
  void set_interrupt_check(std::function<void()> check) { interrupt_check_ = std::move(check); }

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
  void check_tokens(const int32_t* tokens, int64_t n) const;
  // Runs the forward pass over n tokens at positions n_past.. and writes their K/V into the
  // cache. logits_out: [n][vocab] when all_logits, else [vocab] for the last token.
  void forward(const int32_t* tokens, int64_t n, int64_t n_past, float* logits_out, bool all_logits);

  std::shared_ptr<const LlamaModel> model_;
  int64_t n_ctx_;
  int64_t n_batch_;
  bool float_activations_;
  ThreadPool pool_;
  std::function<void()> interrupt_check_;
  std::vector<int32_t> history_;
  KVCache kv_cache_;
  // Scratch, [n_batch][width] each.
  std::vector<float> x_, xn_, q_, k_, v_, attn_, gate_, up_, logits_batch_;
  std::vector<float> last_logits_;
  ops::AttentionScratch attention_scratch_;
  ops::MatmulScratch matmul_scratch_;
  mutable std::atomic<bool> in_use_{false};
};

// The KV-cache type a session file was saved with; FormatError when it is not a session file of
// this format version or names an unknown type (the full checks happen in Session::load).
GGMLType session_file_kv_type(const std::string& path);

}  // namespace ple
