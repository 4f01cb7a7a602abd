// Token sampling as a chain of small steps over the logits: repetition penalties -> top-k ->
// temperature -> softmax -> top-p -> min-p -> draw. temperature <= 0 means greedy (argmax after
// penalties). The RNG is our own (splitmix64) so a seed gives the same tokens on every platform.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

namespace ple {

struct SamplerParams {
  float temperature = 0.8f;
  int32_t top_k = 40;        // <= 0: off
  float top_p = 0.95f;       // 1: off
  float min_p = 0.05f;       // 0: off
  float repeat_penalty = 1.0f;     // 1: off (divides positive logits, multiplies negative)
  float frequency_penalty = 0.0f;  // subtracted per occurrence
  float presence_penalty = 0.0f;   // subtracted once if present
  int32_t penalty_last_n = 64;     // window of recent tokens the penalties look at (0: off, -1: all)
  uint64_t seed = 0;

  // Throws InvalidArgument naming the parameter when out of range.
  void validate() const;
};

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next_u64();
  double next_double();  // uniform in [0, 1)
  uint64_t state() const { return state_; }
  void set_state(uint64_t s) { state_ = s; }

 private:
  uint64_t state_;
};

// One token of a sampling distribution: what the chain leaves of the logits, normalized.
struct TokenProb {
  int32_t id;
  float p;
};

class Sampler {
 public:
  explicit Sampler(const SamplerParams& params);

  // Picks the next token from n_vocab logits (not modified). Uses scratch owned by the sampler.
  int32_t sample(const float* logits, int64_t n_vocab);
  // The distribution sample() draws from, as the surviving tokens (most likely first; one token
  // with p = 1 when greedy). Draws nothing from the RNG.
  void distribution(const float* logits, int64_t n_vocab, std::vector<TokenProb>* out);
  // Draws one token of `dist` (as distribution() gives it) with this sampler's RNG.
  int32_t draw(const std::vector<TokenProb>& dist);
  // Speculative sampling's acceptance rule (Leviathan et al. 2023; Chen et al. 2023): `draft`
  // was drawn from q; it is kept with probability min(1, p(draft) / q(draft)), where p is this
  // sampler's distribution over `logits`, else a token is drawn from max(0, p - q), normalized.
  // The result is distributed as p whatever q is. Greedy: the argmax, as sample().
  int32_t verify(const float* logits, int64_t n_vocab, int32_t draft, const std::vector<TokenProb>& q);
  // Records a token of the context (prompt or generated) for the penalties.
  void accept(int32_t token);
  void reset();
  const SamplerParams& params() const { return params_; }

 private:
  struct Candidate {
    int32_t id;
    float logit;
    float p;
  };
  // Applies the chain to `logits`: candidates_[0, n) are the survivors with their p (summing to
  // the returned total; greedy: the argmax alone, p = 1); returns n.
  size_t survivors(const float* logits, int64_t n_vocab, double* total);

  SamplerParams params_;
  Rng rng_;
  std::deque<int32_t> recent_;
  std::vector<Candidate> candidates_;
  std::vector<int32_t> counts_;  // occurrences in the window, by token id (sized on first use)
  std::vector<TokenProb> p_, residual_;  // verify()'s scratch
  std::vector<float> q_dense_;
};

}  // namespace ple
