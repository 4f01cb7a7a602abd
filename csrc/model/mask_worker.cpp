#include "model/mask_worker.h"

#include <algorithm>
#include <utility>

namespace ple {

MaskWorker::MaskWorker(LogitsMaskFn fn, int32_t n_vocab)
    : fn_(std::move(fn)), n_vocab_(n_vocab), allowed_((static_cast<size_t>(n_vocab) + 31) / 32, ~0u) {}

MaskWorker::~MaskWorker() {
  abandon();
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  requested_cv_.notify_one();
  thread_.join();
}

void MaskWorker::start(int32_t previous) {
  std::fill(allowed_.begin(), allowed_.end(), ~0u);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    previous_ = previous;
    requested_ = true;
    done_ = false;
  }
  started_ = true;
  if (!thread_.joinable()) {
    thread_ = std::thread([this] { loop(); });  // picks up the request just made
  } else {
    requested_cv_.notify_one();
  }
}

bool MaskWorker::wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  done_cv_.wait(lock, [this] { return done_; });
  started_ = false;
  if (error_) {
    std::exception_ptr error = std::move(error_);
    error_ = nullptr;
    std::rethrow_exception(error);
  }
  return result_;
}

void MaskWorker::abandon() {
  if (!started_) return;
  std::unique_lock<std::mutex> lock(mutex_);
  done_cv_.wait(lock, [this] { return done_; });
  started_ = false;
  error_ = nullptr;
}

void MaskWorker::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    requested_cv_.wait(lock, [this] { return requested_ || stop_; });
    if (stop_) return;
    requested_ = false;
    const int32_t previous = previous_;
    // The hook runs unlocked; the generator touches allowed_ only after wait() has seen done_.
    lock.unlock();
    bool result = false;
    std::exception_ptr error;
    try {
      result = fn_(previous, allowed_.data(), n_vocab_);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    result_ = result;
    error_ = error;
    done_ = true;
    lock.unlock();
    done_cv_.notify_one();
    lock.lock();
  }
}

}  // namespace ple
