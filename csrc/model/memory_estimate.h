// What a model file needs in memory at a given context size, from its metadata alone (the file
// need not load as a model): `pyllama-edge info` prints it before anything is allocated.
#pragma once
#include <cstdint>
#include <optional>

#include "io/gguf.h"

namespace ple {

struct MemoryEstimate {
  int64_t n_ctx = 0;          // the context the estimate is for
  uint64_t weight_bytes = 0;  // every tensor's data: memory-mapped, paged in on use
  // K and V of every layer, as KVCache allocates them; empty when the type cannot hold this
  // model's heads (q8_0 needs a head size that is a multiple of 32).
  std::optional<uint64_t> kv_cache_bytes;
};

// n_ctx 0: min(4096, the training context). kv_type: F16 or Q8_0. Empty when the metadata lacks
// positive block count, width, head counts or training context under `general.architecture`.
std::optional<MemoryEstimate> estimate_memory(const GGUFFile& file, int64_t n_ctx, GGMLType kv_type);

}  // namespace ple
