// Batched decoding across sessions (the server's slots). Sessions attached to one batcher hand it
// their forward passes; the passes queued together run as one (forward_pass over all their rows),
// so each step reads the weights once for every session instead of once per session, while each
// session attends over its own KV cache. A prompt is evaluated prefill_chunk tokens per pass, so
// a new request's prefill shares passes with the others' decode steps instead of stalling them.
//
// Every row's result is the one its session computes alone, bit for bit (forward_pass.h), so a
// session's output does not depend on what else is being served.
//
// When to run a pass: as soon as every generation in progress on a member session has queued its
// step (each Generator counts itself while it runs), or when the oldest queued step has waited
// max_wait_us (a member busy elsewhere never holds the others up for longer). The thread whose
// step completes the batch, or whose wait runs out, runs the pass; the others sleep until it ends.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <vector>

#include "core/thread_pool.h"
#include "model/forward_pass.h"

namespace ple {

class Model;

struct BatcherConfig {
  int64_t max_rows = 512;      // token rows in one pass
  int64_t prefill_chunk = 64;  // prompt tokens a session evaluates per pass (<= max_rows)
  int64_t max_wait_us = 2000;  // longest a queued step waits for the other members
  void validate() const;       // InvalidArgument naming the field
};

class SessionBatcher {
 public:
  // n_threads: the model's pool of that size (0: its default), which the members must share.
  SessionBatcher(std::shared_ptr<const Model> model, int n_threads, const BatcherConfig& config);
  SessionBatcher(const SessionBatcher&) = delete;
  SessionBatcher& operator=(const SessionBatcher&) = delete;

  const BatcherConfig& config() const { return config_; }
  const std::shared_ptr<const Model>& model() const { return model_; }
  int n_threads() const { return pool_->size(); }

  // Queues one sequence's step and returns when the pass that ran it is over (rethrowing the
  // pass's error, if any). At most max_rows tokens.
  void run(const ForwardSequence& sequence);

  // A generation in progress on a member session, for the "everyone has queued" rule: counted
  // from construction until end() or destruction. A null batcher counts nothing.
  class Activity {
   public:
    explicit Activity(std::shared_ptr<SessionBatcher> batcher);
    ~Activity() { end(); }
    Activity(const Activity&) = delete;
    Activity& operator=(const Activity&) = delete;
    void end();

   private:
    std::shared_ptr<SessionBatcher> batcher_;
  };

  struct Stats {
    int64_t passes = 0;          // passes run
    int64_t batched_passes = 0;  // ... with more than one session
    int64_t rows = 0;            // token rows over all passes
    int64_t max_sessions = 0;    // most sessions in one pass
  };
  Stats stats() const;

 private:
  struct Request {
    const ForwardSequence* sequence;
    std::chrono::steady_clock::time_point queued;
    bool done = false;
    std::exception_ptr error;
  };
  // Takes the queue's head (up to max_rows), runs it unlocked, then wakes its requests.
  void lead(std::unique_lock<std::mutex>& lock);

  std::shared_ptr<const Model> model_;
  BatcherConfig config_;
  std::shared_ptr<ThreadPool> pool_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Request*> queue_;
  bool running_ = false;
  std::chrono::steady_clock::time_point last_pass_end_;
  int64_t active_ = 0;
  Stats stats_;
  // Used by the leading thread only (running_ guards them).
  ForwardScratch scratch_;
  std::vector<ForwardSequence> pass_;
  std::vector<Request*> taken_;
};

}  // namespace ple
