// The decode loop: prefill the prompt, then sample -> detokenize -> check stops -> decode, one
// token per step, handing out complete UTF-8 text pieces. Stop strings are never emitted: text
// that could be the start of one is held back until it is ruled out.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "model/session.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace ple {

struct GenerateParams {
  SamplerParams sampling;
  int64_t max_tokens = 256;  // < 0: until the context is full
  std::vector<std::string> stop;
  bool ignore_eos = false;
};

class Generator {
 public:
  // The session and tokenizer must outlive the generator.
  Generator(Session& session, const Tokenizer& tokenizer, std::vector<int32_t> prompt, const GenerateParams& params);

  // Next non-empty piece of text, or false when generation has finished.
  bool next(std::string* piece);
  // "stop" (end-of-generation token or stop string) or "length" (max_tokens or full context);
  // empty while running.
  const std::string& finish_reason() const { return finish_reason_; }
  int64_t n_prompt_tokens() const { return static_cast<int64_t>(prompt_.size()); }
  int64_t n_generated() const { return n_generated_; }
  // Prompt tokens actually evaluated (the rest were reused from the session's KV cache).
  int64_t n_prompt_evaluated() const { return n_prompt_evaluated_; }
  const std::vector<int32_t>& generated_tokens() const { return generated_; }

 private:
  void finish(const char* reason);
  // Moves what is safe to show from pending_ to *out; true when a stop string was found.
  bool release_text(std::string* out);

  Session& session_;
  const Tokenizer& tokenizer_;
  std::vector<int32_t> prompt_;
  GenerateParams params_;
  Sampler sampler_;
  StreamingDetokenizer detokenizer_;
  std::string pending_;
  std::vector<int32_t> generated_;
  int32_t unevaluated_token_ = -1;  // sampled but not yet fed to the model
  bool started_ = false;
  int64_t n_generated_ = 0;
  int64_t n_prompt_evaluated_ = 0;
  std::string finish_reason_;
};

}  // namespace ple
