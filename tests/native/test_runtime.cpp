// Thread pool, sampler and logits-mask worker: the pieces of the runtime that need no model file.
#include <atomic>
#include <cmath>
#include <stdexcept>
#include <thread>
#include <vector>

#include "check.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "model/mask_worker.h"
#include "sampling/sampler.h"

using namespace ple;

TEST(thread_pool_parallel_for_covers_range_once) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 2, 7, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      for (int repeat = 0; repeat < 50; ++repeat) {
        pool.parallel_for(n, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
        });
      }
      for (auto& h : hits) CHECK(h.load() == 50);
    }
  }
}

TEST(thread_pool_run_gives_each_thread_its_index) {
  ThreadPool pool(4);
  std::vector<std::atomic<int>> seen(4);
  for (int repeat = 0; repeat < 1000; ++repeat) {
    pool.run([&](int index, int n) {
      CHECK(n == 4);
      seen[static_cast<size_t>(index)].fetch_add(1);
    });
  }
  for (auto& s : seen) CHECK(s.load() == 1000);
}

TEST(sampler_greedy_picks_argmax_with_lowest_id_on_ties) {
  SamplerParams p;
  p.temperature = 0.0f;
  Sampler s(p);
  const float logits[] = {0.5f, 2.0f, -1.0f, 2.0f};
  CHECK(s.sample(logits, 4) == 1);
}

TEST(sampler_top_k_one_is_greedy_and_seed_reproducible) {
  std::vector<float> logits(1000);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(static_cast<float>(i) * 0.37f) * 3.0f;
  SamplerParams p;
  p.top_k = 1;
  Sampler one(p);
  SamplerParams g;
  g.temperature = 0.0f;
  Sampler greedy(g);
  CHECK(one.sample(logits.data(), 1000) == greedy.sample(logits.data(), 1000));

  SamplerParams q;
  q.temperature = 1.0f;
  q.top_k = 0;
  q.top_p = 1.0f;
  q.min_p = 0.0f;
  q.seed = 7;
  Sampler a(q), b(q);
  for (int i = 0; i < 100; ++i) CHECK(a.sample(logits.data(), 1000) == b.sample(logits.data(), 1000));
}

TEST(sampler_distribution_follows_softmax) {
  // Two tokens with logits 0 and ln 3: probabilities 1/4 and 3/4.
  const float logits[] = {0.0f, std::log(3.0f)};
  SamplerParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 42;
  Sampler s(p);
  int ones = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) ones += s.sample(logits, 2);
  CHECK(std::fabs(static_cast<double>(ones) / n - 0.75) < 0.02);
}

TEST(sampler_repeat_penalty_demotes_recent_tokens) {
  const float logits[] = {1.0f, 1.5f};
  SamplerParams p;
  p.temperature = 0.0f;
  p.repeat_penalty = 2.0f;
  Sampler s(p);
  CHECK(s.sample(logits, 2) == 1);
  s.accept(1);
  CHECK(s.sample(logits, 2) == 0);  // 1.5 / 2 < 1.0
}

TEST(sampler_rejects_bad_parameters) {
  SamplerParams p;
  p.top_p = 0.0f;
  CHECK_THROWS(p.validate(), InvalidArgument);
  SamplerParams q;
  q.temperature = -1.0f;
  CHECK_THROWS(Sampler{q}, InvalidArgument);
}

TEST(mask_worker_runs_every_call_on_one_helper_thread_in_order) {
  const int32_t n_vocab = 100;
  std::vector<int32_t> previous_seen;
  std::vector<std::thread::id> threads_seen;
  MaskWorker worker(
      [&](int32_t previous, uint32_t* allowed, int32_t n) {
        previous_seen.push_back(previous);
        threads_seen.push_back(std::this_thread::get_id());
        bool all_set = n == n_vocab;
        for (int32_t w = 0; w < (n + 31) / 32; ++w) all_set = all_set && allowed[w] == ~0u;
        if (!all_set) return false;  // a fresh buffer every call, or the check below fails
        allowed[0] = 1u << (previous + 1);
        return previous % 2 == 0;
      },
      n_vocab);
  CHECK(!worker.started());
  for (int32_t step = -1; step < 30; ++step) {
    worker.start(step);
    CHECK(worker.started());
    CHECK(worker.wait() == (step % 2 == 0));
    CHECK(!worker.started());
    CHECK(worker.allowed()[0] == 1u << (step + 1));
  }
  CHECK(previous_seen.size() == 31);
  for (size_t i = 0; i < previous_seen.size(); ++i) CHECK(previous_seen[i] == static_cast<int32_t>(i) - 1);
  for (const std::thread::id& id : threads_seen) CHECK(id == threads_seen[0] && id != std::this_thread::get_id());
}

TEST(mask_worker_rethrows_the_hooks_error_and_carries_on) {
  MaskWorker worker(
      [](int32_t previous, uint32_t*, int32_t) {
        if (previous == 3) throw std::runtime_error("hook failed");
        return true;
      },
      64);
  for (int32_t step = 0; step < 6; ++step) {
    worker.start(step);
    if (step == 3) {
      CHECK_THROWS(worker.wait(), std::runtime_error);
    } else {
      CHECK(worker.wait());
    }
  }
  worker.start(3);
  worker.abandon();  // an error path: the outcome (here an error) is dropped
  CHECK(!worker.started());
  worker.start(4);
  CHECK(worker.wait());
}

TEST(mask_worker_destroyed_with_a_call_in_flight_lets_it_finish) {
  std::atomic<int> finished{0};
  {
    MaskWorker worker(
        [&](int32_t, uint32_t* allowed, int32_t) {
          std::this_thread::yield();
          allowed[0] = 0;  // writes the worker's buffer: must not outlive it
          finished.fetch_add(1);
          return true;
        },
        32);
    worker.start(-1);
  }
  CHECK(finished.load() == 1);
}
