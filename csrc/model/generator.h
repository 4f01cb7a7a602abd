// Generation: a prompt (text or token ids) and GenerateParams in, text pieces out. The decode
// loop: prefill the prompt, then mask -> sample -> detokenize -> check stops -> decode, one token
// per step, handing out complete UTF-8 text pieces. Stop strings are never emitted: text that
// could be the start of one is held back until it is ruled out. Start one with Session::generate.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/mask_worker.h"
#include "model/session_batcher.h"
#include "model/speculative.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace ple {

class Model;
class Session;

// What to continue: token ids as they are, or text the session's tokenizer encodes (with BOS
// when the model's tokenizer adds one, never doubled when the text starts with it).
struct Prompt {
  bool is_text = false;
  std::vector<int32_t> ids;
  std::string text;
  bool parse_special = false;      // control-token text in `text` becomes control tokens
  std::vector<ByteRange> literal;  // byte ranges of `text` kept plain even so (chat messages)

  static Prompt from_ids(std::vector<int32_t> ids);
  // A chat prompt is rendered markup: parse_special with the messages' own text in `literal`.
  static Prompt from_text(std::string text, bool parse_special = false, std::vector<ByteRange> literal = {});
};


// Speculative decoding (model/speculative.h): drafts verified several tokens per forward pass.
// The output is the one generation without it gives: token for token when greedy, and with
// sampling the same tokens for the same seed with prompt lookup or a greedy draft, the same
// distribution with a sampled draft.
struct Speculation {
  enum class Source { None, PromptLookup, DraftModel };
  Source source = Source::None;
  std::shared_ptr<const Model> draft_model;  // for DraftModel; its vocabulary must be the target's
  int max_draft = kMaxDraft;                 // 1 to kMaxDraft
};

// A generated token's log probability under the model: the log-softmax of the logits it was
// sampled from, before the logits mask, penalties and temperature (OpenAI's logprobs), and the
// most likely tokens' at that step, most likely first (ties: lower id first).
struct TokenLogprob {
  int32_t token = -1;
  float logprob = 0;
  std::vector<std::pair<int32_t, float>> top;
};
constexpr int kMaxTopLogprobs = 20;  // OpenAI's limit

struct GenerateParams {
  SamplerParams sampling;
  int64_t max_tokens = 256;  // -1: until the context is full
  std::vector<std::string> stop;
  bool ignore_eos = false;
  LogitsMaskFn logits_mask;  // empty: no constraint (see mask_worker.h); drafted tokens pass through it too
  Speculation speculation;
  // -1: no log probabilities; 0 to kMaxTopLogprobs: each generated token's (GenerationResult::
  // logprobs) with that many alternatives.
  int top_logprobs = -1;

  // InvalidArgument naming the parameter when out of range (the sampler's too).
  void validate() const;
};

// How a generation ended, in the terms of OpenAI's usage object.
struct GenerationResult {
  std::string finish_reason;        // "stop" (end-of-generation token or stop string) or "length"
  int64_t prompt_tokens = 0;
  int64_t prompt_cached_tokens = 0;  // reused from the session's KV cache, not evaluated
  int64_t completion_tokens = 0;
  std::vector<int32_t> tokens;      // the generated ids (a stop string's tokens included)
  int64_t draft_tokens = 0;         // speculative decoding: drafted tokens verified
  int64_t accepted_draft_tokens = 0;  // ... and kept
  std::vector<TokenLogprob> logprobs;  // one per generated token, when GenerateParams::top_logprobs >= 0
};

class Generator {
 public:
  // Use Session::generate. The session (and its model) must outlive the generator.
  Generator(Session& session, std::vector<int32_t> prompt, const GenerateParams& params);
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;
  ~Generator();

  // Next non-empty piece of text, or false when generation has finished.
  bool next(std::string* piece);
  bool finished() const { return !result_.finish_reason.empty(); }
  // The outcome so far; complete once finished().
  const GenerationResult& result() const { return result_; }

 private:
  void finish(const char* reason);
  // Moves what is safe to show from pending_ to *out; true when a stop string was found.
  bool release_text(std::string* out);
  // The next token, sampled from the session's logits or, while a draft is being checked, from
  // the batch row of the draft's next token (and kept or rejected against it).
  int32_t next_token();
  // The log probabilities of `token` (and the top alternatives) at the step that sampled it.
  TokenLogprob logprob_of(int32_t token, const float* logits);
  // `logits` with the mask (if any) applied: either `logits` or masked_logits_.
  const float* constrain(const float* logits);
  // Evaluates the sampled token, with a draft after it when the drafter has one.
  void evaluate(int32_t token);
  // Drops the drafted tokens after the first end-of-generation token.
  void end_draft_at_end_of_generation();
  // Resolves the draft being checked: keeps its first `accepted` tokens in the cache.
  void end_draft(size_t accepted);
  // The logits mask for the step after `previous`, started on the helper thread so that it
  // overlaps the forward pass; sample_next() waits for it.
  void start_mask(int32_t previous);
  // Runs `step` (a forward pass) with a started mask never left running past it.
  template <typename Step>
  auto overlapping_mask(Step&& step);

  Session& session_;
  const Tokenizer& tokenizer_;
  std::vector<int32_t> prompt_;
  GenerateParams params_;
  Sampler sampler_;
  StreamingDetokenizer detokenizer_;
  std::string pending_;
  int32_t unevaluated_token_ = -1;  // sampled but not yet fed to the model
  int32_t previous_token_ = -1;     // for the logits mask
  bool started_ = false;
  std::unique_ptr<MaskWorker> mask_;  // runs params_.logits_mask; created at the first mask
  std::vector<float> masked_logits_;  // the logits with the masked tokens at -inf
  const float* sampled_from_ = nullptr;  // the raw logits row of the last next_token()
  std::vector<int32_t> by_logit_;        // logprob_of's scratch
  GenerationResult result_;
  // Speculative decoding.
  std::unique_ptr<Drafter> drafter_;  // null: one token per forward pass
  DraftLength draft_length_;
  std::vector<int32_t> context_;      // prompt and generated tokens, what the drafter reads
  Draft draft_;
  std::vector<int32_t> batch_;        // the token sampled before the draft, then the draft
  bool checking_draft_ = false;       // sampling from the batch's rows
  size_t draft_pos_ = 0;              // the draft's tokens kept so far
  // Counts this generation, until it finishes, among those its session's batcher waits for.
  SessionBatcher::Activity batcher_activity_;
};

}  // namespace ple
