#include "model/generator.h"

#include <algorithm>

#include "core/error.h"

namespace ple {

Generator::Generator(Session& session, const Tokenizer& tokenizer, std::vector<int32_t> prompt, const GenerateParams& params)
    : session_(session), tokenizer_(tokenizer), prompt_(std::move(prompt)), params_(params), sampler_(params.sampling),
      detokenizer_(tokenizer) {
  if (prompt_.empty()) throw InvalidArgument("the prompt is empty (no tokens); pass some text or enable add_bos");
  for (const std::string& s : params_.stop) {
    if (s.empty()) throw InvalidArgument("stop strings must not be empty");
  }
  if (static_cast<int64_t>(prompt_.size()) > session_.n_ctx()) {
    throw ContextOverflowError("prompt of " + std::to_string(prompt_.size()) + " tokens does not fit the context of " +
                               std::to_string(session_.n_ctx()) + " tokens");
  }
}

void Generator::finish(const char* reason) {
  if (finish_reason_.empty()) finish_reason_ = reason;
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

bool Generator::next(std::string* piece) {
  piece->clear();
  if (!finish_reason_.empty()) return false;
  if (!started_) {
    started_ = true;
    n_prompt_evaluated_ = session_.set_tokens(prompt_);
    for (int32_t t : prompt_) sampler_.accept(t);
  }
  while (finish_reason_.empty()) {
    if (unevaluated_token_ >= 0) {
      if (static_cast<int64_t>(session_.history().size()) >= session_.n_ctx()) {
        finish("length");  // context full: stop cleanly instead of overflowing
        break;
      }
      session_.append(unevaluated_token_);
      unevaluated_token_ = -1;
    }
    if (params_.max_tokens >= 0 && n_generated_ >= params_.max_tokens) {
      finish("length");
      break;
    }
    const int32_t token = sampler_.sample(session_.logits(), session_.n_vocab());
    sampler_.accept(token);
    if (!params_.ignore_eos && tokenizer_.is_eog(token)) {
      finish("stop");
      break;
    }
    ++n_generated_;
    generated_.push_back(token);
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
