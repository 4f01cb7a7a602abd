#include "model/generator.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "model/model.h"
#include "model/session.h"

namespace ple {

Prompt Prompt::from_ids(std::vector<int32_t> ids) {
  Prompt p;
  p.ids = std::move(ids);
  return p;
}

Prompt Prompt::from_text(std::string text, bool parse_special, std::vector<ByteRange> literal) {
  Prompt p;
  p.is_text = true;
  p.text = std::move(text);
  p.parse_special = parse_special;
  p.literal = std::move(literal);
  return p;
}

void GenerateParams::validate() const {
  sampling.validate();
  if (max_tokens < -1) throw InvalidArgument("max_tokens must be >= 0, or -1 (until the context is full), got " + std::to_string(max_tokens));
  for (const std::string& s : stop) {
    if (s.empty()) throw InvalidArgument("stop strings must not be empty");
  }
  if (speculation.source == Speculation::Source::DraftModel && !speculation.draft_model) {
    throw InvalidArgument("speculative decoding with a draft model needs the model");
  }
  if (top_logprobs < -1 || top_logprobs > kMaxTopLogprobs) {
    throw InvalidArgument("top_logprobs must be 0 to " + std::to_string(kMaxTopLogprobs) + " (or -1 for none), got " +
                          std::to_string(top_logprobs));
  }
  if (speculation.max_draft < 1 || speculation.max_draft > kMaxDraft) {
    throw InvalidArgument("the longest draft must be 1 to " + std::to_string(kMaxDraft) + " tokens, got " +
                          std::to_string(speculation.max_draft));
  }
}

Generator::Generator(Session& session, std::vector<int32_t> prompt, const GenerateParams& params)
    : session_(session),
      tokenizer_(session.tokenizer()),
      prompt_(std::move(prompt)),
      params_(params),
      sampler_(params.sampling),
      detokenizer_(tokenizer_),
      draft_length_(std::min<int>(params.speculation.max_draft, static_cast<int>(std::min<int64_t>(kMaxDraft, session.n_batch() - 1)))),
      batcher_activity_(session.batcher()) {
  params_.validate();
  session_.check_prompt(prompt_);
  result_.prompt_tokens = static_cast<int64_t>(prompt_.size());
  switch (params_.speculation.source) {
    case Speculation::Source::None:
      break;
    case Speculation::Source::PromptLookup:
      drafter_ = std::make_unique<PromptLookupDrafter>();
      break;
    case Speculation::Source::DraftModel:
      drafter_ = std::make_unique<DraftModelDrafter>(params_.speculation.draft_model, session_, params_.sampling);
      break;
  }
  if (session_.n_batch() < 2) drafter_.reset();  // no room for a draft in a batch
  if (drafter_) {
    context_ = prompt_;
    batch_.reserve(static_cast<size_t>(kMaxDraft) + 1);
  }
}

// The mask worker (if any) waits for a started call before its thread stops; next() never
// returns with one in flight, so that wait is for a generator destroyed from inside a step.
Generator::~Generator() = default;

void Generator::start_mask(int32_t previous) {
  if (!mask_) mask_ = std::make_unique<MaskWorker>(params_.logits_mask, static_cast<int32_t>(session_.n_vocab()));
  mask_->start(previous);
}

template <typename Step>
auto Generator::overlapping_mask(Step&& step) {
  try {
    return step();
  } catch (...) {
    if (mask_) mask_->abandon();  // its error, if any, is superseded
    throw;
  }
}

void Generator::finish(const char* reason) {
  if (result_.finish_reason.empty()) result_.finish_reason = reason;
  if (checking_draft_) end_draft(draft_pos_);  // drafted tokens past the end leave the cache
  batcher_activity_.end();
}

bool Generator::release_text(std::string* out) {
  for (const std::string& s : params_.stop) {
    const size_t at = pending_.find(s);
    if (at != std::string::npos) {
      out->append(pending_, 0, at);
      pending_.clear();
      return true;
    }
  }
  // Hold back the longest tail that is a prefix of some stop string.
  size_t hold = 0;
  for (const std::string& s : params_.stop) {
    for (size_t k = std::min(s.size() - 1, pending_.size()); k > hold; --k) {
      if (pending_.compare(pending_.size() - k, k, s, 0, k) == 0) {
        hold = k;
        break;
      }
    }
  }
  out->append(pending_, 0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return false;
}

const float* Generator::constrain(const float* logits) {
  const int32_t n_vocab = static_cast<int32_t>(session_.n_vocab());
  if (!params_.logits_mask) return logits;
  if (!mask_ || !mask_->started()) start_mask(previous_token_);
  if (!mask_->wait()) return logits;
  const uint32_t* allowed = mask_->allowed();
  masked_logits_.resize(static_cast<size_t>(n_vocab));
  bool any = false;
  for (int32_t t0 = 0; t0 < n_vocab; t0 += 32) {
    const uint32_t word = allowed[static_cast<size_t>(t0) / 32];
    const int32_t end = std::min(t0 + 32, n_vocab);
    any = any || (word & (end - t0 == 32 ? ~0u : (1u << (end - t0)) - 1u)) != 0;
    for (int32_t t = t0; t < end; ++t) {
      masked_logits_[static_cast<size_t>(t)] = ((word >> (t - t0)) & 1u) ? logits[t] : -INFINITY;
    }
  }
  if (!any) throw InvalidArgument("the logits mask allows no token at generated position " + std::to_string(result_.completion_tokens));
  return masked_logits_.data();
}

TokenLogprob Generator::logprob_of(int32_t token, const float* logits) {
  const int64_t n_vocab = session_.n_vocab();
  float max_logit = -INFINITY;
  for (int64_t i = 0; i < n_vocab; ++i) max_logit = std::max(max_logit, logits[i]);
  double sum = 0;  // of exp(logit - max): at least 1 (the max itself)
  for (int64_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - max_logit);
  const double log_z = static_cast<double>(max_logit) + std::log(sum);
  TokenLogprob r;
  r.token = token;
  r.logprob = static_cast<float>(logits[token] - log_z);
  const int64_t k = std::min<int64_t>(params_.top_logprobs, n_vocab);
  if (k > 0) {
    by_logit_.resize(static_cast<size_t>(n_vocab));
    for (int64_t i = 0; i < n_vocab; ++i) by_logit_[static_cast<size_t>(i)] = static_cast<int32_t>(i);
    std::partial_sort(by_logit_.begin(), by_logit_.begin() + k, by_logit_.end(),
                      [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
    for (int64_t i = 0; i < k; ++i) {
      const int32_t t = by_logit_[static_cast<size_t>(i)];
      r.top.emplace_back(t, static_cast<float>(logits[t] - log_z));
    }
  }
  return r;
}

int32_t Generator::next_token() {
  const int64_t n_vocab = session_.n_vocab();
  if (!checking_draft_) {
    sampled_from_ = session_.logits();
    return sampler_.sample(constrain(sampled_from_), n_vocab);
  }
  // Row draft_pos_ of the batch follows the draft's last kept token. The target samples it as it
  // would without a draft; the drafted token stands when the two agree (for a sampled draft, by
  // the acceptance rule). A token the mask forbids can never be sampled, so it is rejected.
  sampled_from_ = session_.batch_logits(static_cast<int64_t>(draft_pos_));  // not touched by end_draft
  const float* logits = constrain(sampled_from_);
  if (draft_pos_ == draft_.tokens.size()) {  // every drafted token kept: this one is extra
    const int32_t token = sampler_.sample(logits, n_vocab);
    end_draft(draft_pos_);
    return token;
  }
  const int32_t drafted = draft_.tokens[draft_pos_];
  const int32_t token = draft_.probs.empty() ? sampler_.sample(logits, n_vocab)
                                             : sampler_.verify(logits, n_vocab, drafted, draft_.probs[draft_pos_]);
  if (token == drafted) {
    ++draft_pos_;  // already in the cache; its logits are the next row
  } else {
    end_draft(draft_pos_);
  }
  return token;
}

void Generator::evaluate(int32_t token) {
  int64_t room = session_.n_ctx() - static_cast<int64_t>(session_.history().size()) - 1;
  if (params_.max_tokens >= 0) room = std::min(room, params_.max_tokens - result_.completion_tokens);
  const int want = drafter_ ? static_cast<int>(std::min<int64_t>(draft_length_.next(), room)) : 0;
  if (want > 0) {
    drafter_->draft(context_, want, &draft_);
    if (!params_.ignore_eos) end_draft_at_end_of_generation();
  }
  if (want <= 0 || draft_.tokens.empty()) {
    session_.append(token);
    return;
  }
  batch_.assign(1, token);
  batch_.insert(batch_.end(), draft_.tokens.begin(), draft_.tokens.end());
  session_.append_batch(batch_.data(), static_cast<int64_t>(batch_.size()));
  checking_draft_ = true;
  draft_pos_ = 0;
}

void Generator::end_draft_at_end_of_generation() {
  // Generation stops at an end-of-generation token, so drafted tokens after one (a prompt
  // lookup copying on past the end of a quoted text into the chat template) could never be kept.
  for (size_t i = 0; i < draft_.tokens.size(); ++i) {
    if (!tokenizer_.is_eog(draft_.tokens[i])) continue;
    draft_.tokens.resize(i + 1);
    if (!draft_.probs.empty()) draft_.probs.resize(i + 1);
    return;
  }
}

void Generator::end_draft(size_t accepted) {
  session_.keep_batch_prefix(1 + static_cast<int64_t>(accepted));
  draft_length_.record(static_cast<int>(draft_.tokens.size()), static_cast<int>(accepted));
  result_.draft_tokens += static_cast<int64_t>(draft_.tokens.size());
  result_.accepted_draft_tokens += static_cast<int64_t>(accepted);
  checking_draft_ = false;
}

bool Generator::next(std::string* piece) {
  piece->clear();
  if (finished()) return false;
  if (!started_) {
    started_ = true;
    if (params_.logits_mask) start_mask(-1);  // overlaps the prefill
    const int64_t evaluated = overlapping_mask([&] { return session_.set_tokens(prompt_); });
    result_.prompt_cached_tokens = result_.prompt_tokens - evaluated;
    for (int32_t t : prompt_) sampler_.accept(t);
  }
  while (!finished()) {
    if (unevaluated_token_ >= 0) {
      if (static_cast<int64_t>(session_.history().size()) >= session_.n_ctx()) {
        finish("length");  // context full: stop cleanly instead of overflowing
        break;
      }
      const bool more = params_.max_tokens < 0 || result_.completion_tokens < params_.max_tokens;
      if (params_.logits_mask && more) start_mask(previous_token_);  // overlaps the forward pass
      overlapping_mask([&] { evaluate(unevaluated_token_); });
      unevaluated_token_ = -1;
    }
    if (params_.max_tokens >= 0 && result_.completion_tokens >= params_.max_tokens) {
      finish("length");
      break;
    }
    const int32_t token = next_token();
    previous_token_ = token;
    sampler_.accept(token);
    if (!params_.ignore_eos && tokenizer_.is_eog(token)) {
      finish("stop");
      break;
    }
    ++result_.completion_tokens;
    result_.tokens.push_back(token);
    if (params_.top_logprobs >= 0) result_.logprobs.push_back(logprob_of(token, sampled_from_));
    if (drafter_) context_.push_back(token);
    // A kept drafted token is in the cache already; any other waits for the next evaluation.
    unevaluated_token_ = checking_draft_ ? -1 : token;
    pending_ += detokenizer_.push(token);
    if (release_text(piece)) {
      finish("stop");
      return !piece->empty();
    }
    if (!piece->empty()) return true;
  }
  // Finished: whatever was held back (a partial stop-string match or incomplete UTF-8) is text.
  pending_ += detokenizer_.flush();
  piece->append(pending_);
  pending_.clear();
  return !piece->empty();
}

}  // namespace ple
