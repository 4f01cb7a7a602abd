#include "model/generator.h"

#include <algorithm>

#include "core/error.h"
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
}

Generator::Generator(Session& session, std::vector<int32_t> prompt, const GenerateParams& params)
    : session_(session),
      tokenizer_(session.tokenizer()),
      prompt_(std::move(prompt)),
      params_(params),
      sampler_(params.sampling),
      detokenizer_(tokenizer_) {
  params_.validate();
  session_.check_prompt(prompt_);
  result_.prompt_tokens = static_cast<int64_t>(prompt_.size());
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

int32_t Generator::sample_next() {
  const int32_t n_vocab = static_cast<int32_t>(session_.n_vocab());
  if (!params_.logits_mask) return sampler_.sample(session_.logits(), n_vocab);
  if (!mask_ || !mask_->started()) start_mask(previous_token_);
  if (!mask_->wait()) return sampler_.sample(session_.logits(), n_vocab);
  const uint32_t* allowed = mask_->allowed();
  bool any = false;
  for (int32_t t0 = 0; t0 < n_vocab && !any; t0 += 32) {
    const int32_t bits = std::min(32, n_vocab - t0);
    any = (allowed[static_cast<size_t>(t0) / 32] & (bits == 32 ? ~0u : (1u << bits) - 1u)) != 0;
  }
  if (!any) throw InvalidArgument("the logits mask allows no token at generated position " + std::to_string(result_.completion_tokens));
  return sampler_.sample(session_.logits(), n_vocab, allowed);
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
      overlapping_mask([&] { session_.append(unevaluated_token_); });
      unevaluated_token_ = -1;
    }
    if (params_.max_tokens >= 0 && result_.completion_tokens >= params_.max_tokens) {
      finish("length");
      break;
    }
    const int32_t token = sample_next();
    previous_token_ = token;
    sampler_.accept(token);
    if (!params_.ignore_eos && tokenizer_.is_eog(token)) {
      finish("stop");
      break;
    }
    ++result_.completion_tokens;
    result_.tokens.push_back(token);
    unevaluated_token_ = token;
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
