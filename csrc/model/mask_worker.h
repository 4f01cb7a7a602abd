// The logits mask hook (constrained decoding builds on it) and the helper thread that runs it
// while the forward pass evaluates the previous token.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ple {

// Restricts which tokens may come next. Before each sampling step it is called with the token
// sampled at the previous step (-1 at the first) and a bitmask of n_vocab bits, all set (token t
// is bit t % 32 of word t / 32); it clears the bits of the tokens that may not come next and
// returns true, or returns false to leave this step free. Masked tokens are never sampled,
// end-of-generation tokens included; a mask that allows no token ends the call with
// InvalidArgument.
// The mask depends only on the tokens so far, so it is computed while the model evaluates
// `previous` (and the first one during the prompt's prefill): it runs on a helper thread, one
// call at a time, concurrently with the forward pass. It must not use the session.
using LogitsMaskFn = std::function<bool(int32_t previous, uint32_t* allowed, int32_t n_vocab)>;

// One helper thread per generation, started at the first call and woken per step (not a thread
// start per token). Used by one thread (the generator's): start(), then wait() before the next
// start() and before reading allowed().
class MaskWorker {
 public:
  MaskWorker(LogitsMaskFn fn, int32_t n_vocab);
  MaskWorker(const MaskWorker&) = delete;
  MaskWorker& operator=(const MaskWorker&) = delete;
  ~MaskWorker();  // waits for a started call, then stops the thread

  // Starts the call for the step after `previous` on an all-set buffer.
  void start(int32_t previous);
  // Waits for the started call: true when it constrains the step. Rethrows the hook's exception.
  bool wait();
  // Waits for a started call, if any, dropping its outcome (an error path).
  void abandon();
  bool started() const { return started_; }
  // The bitmask of the last finished call (n_vocab bits).
  const uint32_t* allowed() const { return allowed_.data(); }

 private:
  void loop();

  LogitsMaskFn fn_;
  int32_t n_vocab_;
  std::vector<uint32_t> allowed_;
  bool started_ = false;  // the generator's side: a call is in flight until wait()

  // Shared with the helper thread, under mutex_.
  std::mutex mutex_;
  std::condition_variable requested_cv_;
  std::condition_variable done_cv_;
  bool requested_ = false;
  bool done_ = false;
  bool stop_ = false;
  int32_t previous_ = -1;
  bool result_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace ple
