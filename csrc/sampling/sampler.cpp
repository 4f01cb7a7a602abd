#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"

namespace ple {

void SamplerParams::validate() const {
  auto fail = [](const std::string& what) { throw InvalidArgument(what); };
  if (!std::isfinite(temperature) || temperature < 0.0f) fail("temperature must be a finite number >= 0, got " + std::to_string(temperature));
  if (top_k < 0) fail("top_k must be >= 0 (0 disables it), got " + std::to_string(top_k));
  if (!(top_p > 0.0f && top_p <= 1.0f)) fail("top_p must be in (0, 1], got " + std::to_string(top_p));
  if (!(min_p >= 0.0f && min_p <= 1.0f)) fail("min_p must be in [0, 1], got " + std::to_string(min_p));
  if (!std::isfinite(repeat_penalty) || repeat_penalty <= 0.0f) fail("repeat_penalty must be a finite number > 0, got " + std::to_string(repeat_penalty));
  if (!std::isfinite(frequency_penalty)) fail("frequency_penalty must be finite");
  if (!std::isfinite(presence_penalty)) fail("presence_penalty must be finite");
  if (penalty_last_n < -1) fail("penalty_last_n must be >= -1, got " + std::to_string(penalty_last_n));
}

uint64_t Rng::next_u64() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double Rng::next_double() { return static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0); }

Sampler::Sampler(const SamplerParams& params) : params_(params), rng_(params.seed) { params_.validate(); }

void Sampler::reset() {
  recent_.clear();
  std::fill(counts_.begin(), counts_.end(), 0);
  rng_.set_state(params_.seed);
}

void Sampler::accept(int32_t token) {
  if (params_.penalty_last_n == 0 || token < 0) return;
  if (counts_.size() <= static_cast<size_t>(token)) counts_.resize(static_cast<size_t>(token) + 1, 0);
  recent_.push_back(token);
  ++counts_[static_cast<size_t>(token)];
  if (params_.penalty_last_n > 0 && static_cast<int64_t>(recent_.size()) > params_.penalty_last_n) {
    --counts_[static_cast<size_t>(recent_.front())];
    recent_.pop_front();
  }
}

int32_t Sampler::sample(const float* logits, int64_t n_vocab, const uint32_t* allowed) {
  candidates_.resize(static_cast<size_t>(n_vocab));
  if (allowed == nullptr) {
    for (int64_t i = 0; i < n_vocab; ++i) candidates_[static_cast<size_t>(i)] = {static_cast<int32_t>(i), logits[i], 0.0f};
  } else {
    for (int64_t i = 0; i < n_vocab; ++i) {
      const bool ok = (allowed[i / 32] >> (i % 32)) & 1u;
      candidates_[static_cast<size_t>(i)] = {static_cast<int32_t>(i), ok ? logits[i] : -INFINITY, 0.0f};
    }
  }

  // Penalties over the distinct tokens of the window.
  const bool penalize = params_.repeat_penalty != 1.0f || params_.frequency_penalty != 0.0f || params_.presence_penalty != 0.0f;
  if (penalize) {
    for (size_t id = 0; id < counts_.size() && id < candidates_.size(); ++id) {
      const int32_t count = counts_[id];
      if (count == 0) continue;
      float& logit = candidates_[id].logit;
      logit = logit > 0.0f ? logit / params_.repeat_penalty : logit * params_.repeat_penalty;
      logit -= static_cast<float>(count) * params_.frequency_penalty + params_.presence_penalty;
    }
  }

  auto by_logit = [](const Candidate& a, const Candidate& b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); };
  if (params_.temperature <= 0.0f) {
    return std::min_element(candidates_.begin(), candidates_.end(), by_logit)->id;
  }

  size_t n = candidates_.size();
  if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < n) {
    std::partial_sort(candidates_.begin(), candidates_.begin() + params_.top_k, candidates_.end(), by_logit);
    n = static_cast<size_t>(params_.top_k);
  } else {
    std::sort(candidates_.begin(), candidates_.end(), by_logit);
  }

  // Softmax with temperature over the survivors (sorted, so [0] holds the max).
  const float max_logit = candidates_[0].logit;
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    candidates_[i].p = std::exp((candidates_[i].logit - max_logit) / params_.temperature);
    sum += candidates_[i].p;
  }
  for (size_t i = 0; i < n; ++i) candidates_[i].p = static_cast<float>(candidates_[i].p / sum);

  // top-p: smallest prefix whose mass reaches top_p (at least one token).
  if (params_.top_p < 1.0f) {
    double mass = 0.0;
    size_t keep = 0;
    while (keep < n) {
      mass += candidates_[keep].p;
      ++keep;
      if (mass >= params_.top_p) break;
    }
    n = keep;
  }
  // min-p: drop tokens below min_p times the best probability.
  if (params_.min_p > 0.0f) {
    const float threshold = params_.min_p * candidates_[0].p;
    size_t keep = 1;
    while (keep < n && candidates_[keep].p >= threshold) ++keep;
    n = keep;
  }

  double total = 0.0;
  for (size_t i = 0; i < n; ++i) total += candidates_[i].p;
  double r = rng_.next_double() * total;
  for (size_t i = 0; i < n; ++i) {
    r -= candidates_[i].p;
    if (r < 0.0) return candidates_[i].id;
  }
  return candidates_[n - 1].id;
}

}  // namespace ple
