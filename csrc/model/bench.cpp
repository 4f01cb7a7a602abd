#include "model/bench.h"

#include <chrono>
#include <cmath>

#include "core/error.h"

namespace ple {

BenchTiming bench_evaluation(Session& session, const std::vector<int32_t>& tokens, bool decode) {
  if (tokens.empty() || (decode && tokens.size() < 2)) {
    throw InvalidArgument(decode ? "a decode benchmark needs at least 2 tokens" : "a prefill benchmark needs tokens");
  }
  using Clock = std::chrono::steady_clock;
  {
    // set_tokens and append take the session themselves; reset and the logits read below do not.
    Session::Use use(session);
    session.reset();
  }
  Clock::time_point start;
  if (decode) {
    session.set_tokens({tokens[0]});
    start = Clock::now();
    for (size_t k = 1; k < tokens.size(); ++k) session.append(tokens[k]);
  } else {
    start = Clock::now();
    session.set_tokens(tokens);
  }
  BenchTiming timing;
  timing.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  Session::Use use(session);
  timing.logits_finite = true;
  const float* logits = session.logits();
  for (int64_t k = 0; k < session.n_vocab(); ++k) timing.logits_finite = timing.logits_finite && std::isfinite(logits[k]);
  return timing;
}

}  // namespace ple
