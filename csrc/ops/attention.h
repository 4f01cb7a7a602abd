// Grouped-query causal attention over the KV cache (F16 or Q8_0 rows).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ops/context.h"
#include "quant/ggml_types.h"

namespace ple::ops {

struct AttentionShape {
  int64_t n_head;     // query heads
  int64_t n_head_kv;  // key/value heads; each serves n_head / n_head_kv query heads
  int64_t head_dim;
};

// One layer of the cache as attention reads it: one row per position, n_head_kv heads per row.
struct KVLayer {
  GGMLType type;      // F16 or Q8_0
  const uint8_t* k;   // position 0
  const uint8_t* v;
  size_t row_bytes;   // bytes between consecutive positions
  size_t head_bytes;  // bytes of one head within a row
};

// For each of n_tokens queries q[t] (n_head*head_dim floats) at position first_pos + t, attends
// to cache positions 0..first_pos+t (causal) and writes out[t] (n_head*head_dim floats).
void attention(const Context& ctx, const float* q, const KVLayer& kv, int64_t n_tokens, int64_t first_pos,
               const AttentionShape& shape, float* out);

}  // namespace ple::ops
