#include "model/session_batcher.h"

#include <algorithm>

#include "core/error.h"
#include "model/model.h"

namespace ple {

void BatcherConfig::validate() const {
  if (max_rows < 1) throw InvalidArgument("max_rows must be positive, got " + std::to_string(max_rows));
  if (prefill_chunk < 1 || prefill_chunk > max_rows) {
    throw InvalidArgument("prefill_chunk must be 1 to max_rows (" + std::to_string(max_rows) + "), got " + std::to_string(prefill_chunk));
  }
  if (max_wait_us < 0 || max_wait_us > 1000000) {
    throw InvalidArgument("max_wait_us must be 0 to 1000000, got " + std::to_string(max_wait_us));
  }
}

SessionBatcher::SessionBatcher(std::shared_ptr<const Model> model, int n_threads, const BatcherConfig& config)
    : model_(std::move(model)), config_(config) {
  config_.validate();
  pool_ = model_->thread_pool(n_threads);
}

SessionBatcher::Activity::Activity(std::shared_ptr<SessionBatcher> batcher) : batcher_(std::move(batcher)) {
  if (batcher_ == nullptr) return;
  std::lock_guard<std::mutex> lock(batcher_->mutex_);
  ++batcher_->active_;
}

void SessionBatcher::Activity::end() {
  if (batcher_ == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(batcher_->mutex_);
    --batcher_->active_;
  }
  batcher_->changed_.notify_all();  // the queued steps may now be everyone's
  batcher_.reset();
}

SessionBatcher::Stats SessionBatcher::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void SessionBatcher::run(const ForwardSequence& sequence) {
  if (sequence.n < 1 || sequence.n > config_.max_rows) {
    throw InvalidArgument("a batched step takes 1 to max_rows (" + std::to_string(config_.max_rows) + ") tokens, got " +
                          std::to_string(sequence.n));
  }
  if (sequence.output == ForwardOutput::HiddenStates) throw InvalidArgument("hidden states are not batched across sessions");
  Request request{&sequence, std::chrono::steady_clock::now(), false, nullptr};
  std::unique_lock<std::mutex> lock(mutex_);
  queue_.push_back(&request);
  changed_.notify_all();
  while (!request.done) {
    if (running_ || queue_.empty()) {
      changed_.wait(lock);
      continue;
    }
    // A step queued during the previous pass waits from that pass's end, so that the others of
    // that pass can join it (else the late one would run alone every time).
    const auto deadline = std::max(queue_.front()->queued, last_pass_end_) + std::chrono::microseconds(config_.max_wait_us);
    if (static_cast<int64_t>(queue_.size()) >= active_ || std::chrono::steady_clock::now() >= deadline) {
      lead(lock);
    } else {
      changed_.wait_until(lock, deadline);
    }
  }
  if (request.error) std::rethrow_exception(request.error);
}

void SessionBatcher::lead(std::unique_lock<std::mutex>& lock) {
  running_ = true;
  taken_.clear();
  pass_.clear();
  int64_t rows = 0;
  while (!queue_.empty() && rows + queue_.front()->sequence->n <= config_.max_rows) {
    taken_.push_back(queue_.front());
    pass_.push_back(*queue_.front()->sequence);
    rows += queue_.front()->sequence->n;
    queue_.pop_front();
  }
  lock.unlock();
  std::exception_ptr error;
  try {
    scratch_.reserve(model_->weights().hparams(), rows);
    forward_pass(model_->weights(), *pool_, scratch_, pass_.data(), pass_.size(), false, {});
  } catch (...) {
    error = std::current_exception();
  }
  lock.lock();
  for (Request* r : taken_) {
    r->error = error;
    r->done = true;
  }
  ++stats_.passes;
  if (taken_.size() > 1) ++stats_.batched_passes;
  stats_.rows += rows;
  stats_.max_sessions = std::max<int64_t>(stats_.max_sessions, static_cast<int64_t>(taken_.size()));
  running_ = false;
  last_pass_end_ = std::chrono::steady_clock::now();
  changed_.notify_all();
}

}  // namespace ple
