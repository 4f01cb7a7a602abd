// Thread pool and sampler: the pieces of the runtime that need no model file.
#include <atomic>
#include <cmath>
#include <vector>

#include "check.h"
#include "core/error.h"
#include "core/thread_pool.h"
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
