// Grouped-query causal attention over an F16 KV cache.
#pragma once
#include <cstdint>
#include <vector>

#include "core/thread_pool.h"

namespace ple::ops {

struct AttentionShape {
  int64_t n_head;     // query heads
  int64_t n_head_kv;  // key/value heads; each serves n_head / n_head_kv query heads
  int64_t head_dim;
  int64_t kv_stride;  // elements between consecutive positions in the cache (n_head_kv * head_dim)
};

// For each of n_tokens queries q[t] (n_head*head_dim floats) at position first_pos + t, attends
// to cache positions 0..first_pos+t (causal) and writes out[t] (n_head*head_dim floats).
// k_cache/v_cache point at position 0 of this layer; scores is scratch, resized as needed.
void attention(const float* q, const uint16_t* k_cache, const uint16_t* v_cache, int64_t n_tokens,
               int64_t first_pos, const AttentionShape& shape, float* out, ThreadPool& pool,
               std::vector<float>& scores);

}  // namespace ple::ops
