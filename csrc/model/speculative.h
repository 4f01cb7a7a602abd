// Drafting for speculative decoding. The Generator asks a Drafter for a guess of the next few
// tokens, evaluates the guess in one batched forward pass (Session::append_batch) and keeps the
// longest prefix the target's own sampling agrees with, so the output is the target's whatever
// the draft: greedy output is token for token the plain decode's.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "sampling/sampler.h"

namespace ple {

class Model;
class Session;

// The longest draft one step verifies (a batch of 1 + kMaxDraft tokens).
constexpr int kMaxDraft = 16;

struct Draft {
  std::vector<int32_t> tokens;
  // Per token, the distribution it was drawn from, for Sampler::verify; empty when the draft
  // is deterministic (prompt lookup, a greedy draft model): the target then keeps a drafted
  // token exactly when its own sampling picks it, with its own RNG stream.
  std::vector<std::vector<TokenProb>> probs;
};

class Drafter {
 public:
  virtual ~Drafter() = default;
  // Up to max_tokens (>= 1) tokens to follow `context` (the prompt and every generated token,
  // the one about to be evaluated included); fewer or none when it has no guess.
  virtual void draft(const std::vector<int32_t>& context, int max_tokens, Draft* out) = 0;
};

// Prompt lookup (Saxena 2023, llama.cpp's lookup decoding): the context's last n tokens
// (n = kMaxNgram down to kMinNgram) are searched for earlier in the context, latest match first,
// and the tokens that followed the match are the draft. Copying tasks (editing a text, extracting
// fields, repeating code) accept long runs of it.
class PromptLookupDrafter : public Drafter {
 public:
  static constexpr int kMaxNgram = 4;
  static constexpr int kMinNgram = 2;  // single-token matches are mostly noise in free text
  void draft(const std::vector<int32_t>& context, int max_tokens, Draft* out) override;
};

// A smaller model with the same vocabulary continues the context on a session of its own (its
// KV cache follows the target's accepted tokens by prefix reuse). Greedy generation drafts its
// argmax; sampling draws from the draft's distribution (same temperature and truncation, no
// penalties, its own RNG), kept for the acceptance rule.
class DraftModelDrafter : public Drafter {
 public:
  // The draft session gets the target session's context length (at most the draft's own),
  // threads and KV type.
  DraftModelDrafter(std::shared_ptr<const Model> draft_model, const Session& target, const SamplerParams& sampling);
  ~DraftModelDrafter() override;
  void draft(const std::vector<int32_t>& context, int max_tokens, Draft* out) override;

 private:
  std::unique_ptr<Session> session_;
  Sampler sampler_;
  bool greedy_;
};

// InvalidArgument naming the first difference when the two models' vocabularies differ (size,
// a token's text, or the BOS/EOS/EOT/EOM ids): a draft must speak the target's token ids.
void check_same_vocabulary(const Model& target, const Model& draft);

// How long the next draft may be, from how the recent ones went: it doubles while drafts are
// accepted whole and falls to one past the accepted part when one is cut short. After a draft
// whose first token is rejected, drafting pauses for a number of steps that doubles with each
// such miss in a row (up to kMaxPause), so text with nothing to copy pays for a wasted
// verification only every so often.
class DraftLength {
 public:
  static constexpr int kMaxPause = 16;
  explicit DraftLength(int max_length) : max_(max_length), length_(max_length < 4 ? max_length : 4) {}
  // The length to ask for this step; 0: do not draft now.
  int next();
  void record(int drafted, int accepted);

 private:
  int max_;
  int length_;
  int pause_ = 0;       // steps left without drafting
  int next_pause_ = 1;  // the pause after the next miss
};

}  // namespace ple
