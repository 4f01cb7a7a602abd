// llama-bench's two measurements over the public Session API, timed in C++ so no Python call sits
// between decode steps.
#pragma once
#include <cstdint>
#include <vector>

#include "model/session.h"

namespace ple {

struct BenchTiming {
  double seconds = 0.0;        // wall time of the measured evaluation
  bool logits_finite = false;  // of the last position: a broken kernel path must not report a speed
};

// Prefill (decode false): one batched evaluation of `tokens` from an empty cache.
// Decode (decode true): tokens[0] evaluated untimed, then one timed decode step per later token.
// Resets the session's history first; throws ContextOverflowError when tokens do not fit n_ctx.
BenchTiming bench_evaluation(Session& session, const std::vector<int32_t>& tokens, bool decode);

}  // namespace ple
