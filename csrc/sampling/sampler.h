// Token sampling as a chain of small steps over the logits: mask -> repetition penalties -> top-k ->
// temperature -> softmax -> top-p -> min-p -> draw. temperature <= 0 means greedy (argmax after
// penalties). The RNG is our own (splitmix64) so a seed gives the same tokens on every platform.
#pragma once
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

class Sampler {
 public:
  explicit Sampler(const SamplerParams& params);

  // Picks the next token from n_vocab logits (not modified). Uses scratch owned by the sampler.
  // `allowed`, when given, is a bitmask of n_vocab bits (token t is bit t % 32 of word t / 32):
  // a token whose bit is clear gets logit -inf, so it is never drawn. It must allow some token.
  int32_t sample(const float* logits, int64_t n_vocab, const uint32_t* allowed = nullptr);
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
  SamplerParams params_;
  Rng rng_;
  std::deque<int32_t> recent_;
  std::vector<Candidate> candidates_;
  std::vector<int32_t> counts_;  // occurrences in the window, by token id (sized on first use)
};

}  // namespace ple
