#include "model/session.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/checked_math.h"
#include "core/cpu_count.h"
#include "core/error.h"
#include "core/memory_info.h"

namespace ple {
namespace {

std::string mib(uint64_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB"; }

}  // namespace

Session::Use::Use(const Session& s) : s_(s) {
  if (s_.in_use_.exchange(true)) {
    throw ConcurrentUseError("this session is already in use by another thread; create one session per thread");
  }
}
Session::Use::~Use() { s_.in_use_.store(false); }

Session::Session(std::shared_ptr<const Model> model, const SessionConfig& config)
    : owner_(std::move(model)),
      model_(owner_->weights_ptr()),
      n_ctx_(config.n_ctx),
      n_batch_(config.n_batch),
      float_activations_(config.float_activations),
      pool_owner_(owner_->thread_pool(config.n_threads)),
      pool_(*pool_owner_) {
  const LlamaHParams& hp = model_->hparams();
  if (n_ctx_ == 0) n_ctx_ = std::min<int64_t>(4096, hp.n_ctx_train);
  if (n_ctx_ < 1) throw InvalidArgument("n_ctx must be positive");
  if (n_ctx_ > hp.n_ctx_train) {
    throw InvalidArgument("n_ctx " + std::to_string(n_ctx_) + " exceeds the model's context length " +
                          std::to_string(hp.n_ctx_train));
  }
  if (n_batch_ < 1) throw InvalidArgument("n_batch must be positive");
  n_batch_ = std::min(n_batch_, n_ctx_);
  // The KV cache is committed page by page as the context fills, so an n_ctx that cannot fit
  // would otherwise be OOM-killed hours later: refuse it now, with the numbers. The weights are
  // file-backed (mmap) and not counted: the kernel can always drop and re-read those pages.
  const uint64_t kv_bytes = KVCache::bytes_needed(config.kv_type, hp.n_layer, n_ctx_, hp.kv_dim());
  // Grouped-query attention keeps one row of scores per query head of a KV group and thread
  // (ops/attention.cpp).
  const uint64_t score_floats = static_cast<uint64_t>(n_ctx_) * static_cast<uint64_t>(hp.n_head / hp.n_head_kv) *
                                static_cast<uint64_t>(pool_.size());
  const uint64_t scratch = 4 * (static_cast<uint64_t>(n_batch_) * static_cast<uint64_t>(4 * hp.n_embd + 3 * hp.q_dim() +
                                                                          2 * hp.kv_dim() + 2 * hp.n_ff) +
                                score_floats);
  const uint64_t available = available_memory_bytes();
  if (available != 0 && kv_bytes + scratch > available) {
    throw ResourceError("n_ctx " + std::to_string(n_ctx_) + " needs " + mib(kv_bytes) + " of KV cache (" +
                        kv_type_name(config.kv_type) + ") and " +
                        mib(scratch) + " of buffers, but only " + mib(available) +
                        " of memory is available (MemAvailable); use a smaller n_ctx" +
                        (config.kv_type == GGMLType::F16 ? std::string(" or kv_type='q8_0'") : std::string()));
  }
  kv_cache_ = KVCache(config.kv_type, hp.n_layer, n_ctx_, hp.kv_dim(), hp.head_dim);
  last_logits_.resize(static_cast<size_t>(hp.n_vocab));
}

void Session::set_batcher(std::shared_ptr<SessionBatcher> batcher) {
  Use use(*this);
  if (batcher) {
    if (batcher->model().get() != owner_.get()) throw InvalidArgument("the batcher is for another model");
    if (batcher->n_threads() != pool_.size()) {
      throw InvalidArgument("the batcher runs " + std::to_string(batcher->n_threads()) + " threads, this session " +
                            std::to_string(pool_.size()));
    }
    if (float_activations_) throw InvalidArgument("sessions with float activations are not batched");
  }
  batcher_ = std::move(batcher);
}

void Session::forward(const int32_t* tokens, int64_t n, int64_t n_past, ForwardOutput output, float* logits_out) {
  const ForwardSequence sequence{&kv_cache_, tokens, n, n_past, output, logits_out};
  if (batcher_ && output != ForwardOutput::HiddenStates) {
    // The batcher's passes skip per-layer checks (they run other sessions' rows too): this
    // session's check runs before each of its passes instead, so a long prompt stops within a chunk.
    if (interrupt_check_) interrupt_check_();
    batcher_->run(sequence);
    return;
  }
  scratch_.reserve(model_->hparams(), n_batch_);
  forward_pass(*model_, pool_, scratch_, &sequence, 1, float_activations_, interrupt_check_);
}

void Session::check_prompt(const std::vector<int32_t>& tokens) const {
  if (tokens.empty()) throw InvalidArgument("the prompt is empty (no tokens); pass some text or token ids");
  const int64_t n = static_cast<int64_t>(tokens.size());
  for (int64_t i = 0; i < n; ++i) {
    const int32_t t = tokens[static_cast<size_t>(i)];
    if (t < 0 || t >= n_vocab()) {
      throw InvalidArgument("token id " + std::to_string(t) + " at index " + std::to_string(i) +
                            " is out of range for a vocabulary of " + std::to_string(n_vocab()));
    }
  }
  if (n > n_ctx_) {
    throw ContextOverflowError("prompt of " + std::to_string(n) + " tokens does not fit the context of " +
                               std::to_string(n_ctx_) + " tokens");
  }
}

std::unique_ptr<Generator> Session::generate(const Prompt& prompt, const GenerateParams& params) {
  return std::make_unique<Generator>(*this, owner_->tokenize(prompt), params);
}

int64_t Session::set_tokens(const std::vector<int32_t>& tokens) {
  Use use(*this);
  model_->check_unchanged();
  check_prompt(tokens);
  size_t common = 0;
  while (common < history_.size() && common < tokens.size() && history_[common] == tokens[common]) ++common;
  // The last token must be evaluated again to produce logits (they are not kept per position).
  common = std::min(common, tokens.size() - 1);
  history_.resize(common);
  batch_start_ = -1;
  const size_t chunk = static_cast<size_t>(prompt_chunk());
  for (size_t start = common; start < tokens.size(); start += chunk) {
    const size_t n = std::min(tokens.size() - start, chunk);
    forward(tokens.data() + start, static_cast<int64_t>(n), static_cast<int64_t>(start), ForwardOutput::LastLogits, last_logits_.data());
    history_.insert(history_.end(), tokens.begin() + static_cast<std::ptrdiff_t>(start),
                    tokens.begin() + static_cast<std::ptrdiff_t>(start + n));
  }
  return static_cast<int64_t>(tokens.size() - common);
}

void Session::append(int32_t token) {
  Use use(*this);
  model_->check_unchanged();
  if (static_cast<int64_t>(history_.size()) >= n_ctx_) {
    throw ContextOverflowError("the context of " + std::to_string(n_ctx_) + " tokens is full");
  }
  if (token < 0 || token >= n_vocab()) {
    throw InvalidArgument("token id " + std::to_string(token) + " is out of range for a vocabulary of " + std::to_string(n_vocab()));
  }
  batch_start_ = -1;
  forward(&token, 1, static_cast<int64_t>(history_.size()), ForwardOutput::LastLogits, last_logits_.data());
  history_.push_back(token);
}

void Session::append_batch(const int32_t* tokens, int64_t n) {
  Use use(*this);
  model_->check_unchanged();
  if (n < 1 || n > n_batch_) throw InvalidArgument("append_batch takes 1 to n_batch (" + std::to_string(n_batch_) + ") tokens");
  if (static_cast<int64_t>(history_.size()) + n > n_ctx_) {
    throw ContextOverflowError("the context of " + std::to_string(n_ctx_) + " tokens is full");
  }
  for (int64_t i = 0; i < n; ++i) {
    if (tokens[i] < 0 || tokens[i] >= n_vocab()) {
      throw InvalidArgument("token id " + std::to_string(tokens[i]) + " is out of range for a vocabulary of " + std::to_string(n_vocab()));
    }
  }
  const size_t need = static_cast<size_t>(n) * static_cast<size_t>(n_vocab());
  if (logits_batch_.size() < need) logits_batch_.resize(need);  // once per generation's longest batch
  batch_start_ = -1;  // until the batch is complete
  forward(tokens, n, static_cast<int64_t>(history_.size()), ForwardOutput::AllLogits, logits_batch_.data());
  batch_start_ = static_cast<int64_t>(history_.size());
  batch_size_ = n;
  history_.insert(history_.end(), tokens, tokens + n);
  std::memcpy(last_logits_.data(), batch_logits(n - 1), static_cast<size_t>(n_vocab()) * sizeof(float));
}

void Session::keep_batch_prefix(int64_t n_kept) {
  Use use(*this);
  if (batch_start_ < 0 || static_cast<int64_t>(history_.size()) != batch_start_ + batch_size_ || n_kept < 1 ||
      n_kept > batch_size_) {
    throw InvalidArgument("keep_batch_prefix: no batch of at least " + std::to_string(n_kept) + " tokens was just appended");
  }
  history_.resize(static_cast<size_t>(batch_start_ + n_kept));
  batch_size_ = n_kept;
  std::memcpy(last_logits_.data(), batch_logits(n_kept - 1), static_cast<size_t>(n_vocab()) * sizeof(float));
}

void Session::evaluate_all(const std::vector<int32_t>& tokens, float* out) {
  Use use(*this);
  model_->check_unchanged();
  check_prompt(tokens);
  history_.clear();
  batch_start_ = -1;
  const size_t vocab = static_cast<size_t>(n_vocab());
  const size_t chunk = static_cast<size_t>(prompt_chunk());
  for (size_t start = 0; start < tokens.size(); start += chunk) {
    const size_t n = std::min(tokens.size() - start, chunk);
    forward(tokens.data() + start, static_cast<int64_t>(n), static_cast<int64_t>(start), ForwardOutput::AllLogits, out + start * vocab);
    history_.insert(history_.end(), tokens.begin() + static_cast<std::ptrdiff_t>(start),
                    tokens.begin() + static_cast<std::ptrdiff_t>(start + n));
  }
  if (!tokens.empty()) std::memcpy(last_logits_.data(), out + (tokens.size() - 1) * vocab, vocab * sizeof(float));
}

}  // namespace ple
