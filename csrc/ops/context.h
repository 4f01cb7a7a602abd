// What the ops that call kernels are handed (ruy's Ctx): the kernel table the model chose, the
// thread pool to split work over, and the caller's scratch. References only, cheap to build for
// each forward pass; the ops keep no state of their own.
#pragma once
#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/kernel_table.h"

namespace ple::ops {

// Quantized activations (and dequantized weight rows), grown once to the largest need and reused.
struct MatmulScratch {
  std::vector<uint8_t> quantized;
  std::vector<float> rows;  // float_activations: one dequantized weight row per thread
};

// Per-thread attention buffers, grown as needed and reused across calls.
struct AttentionScratch {
  std::vector<float> scores;
  std::vector<uint8_t> query_blocks;  // the query head quantized for a Q8_0 K cache
};

struct Context {
  const kernels::KernelTable& kernels;
  ThreadPool& pool;
  MatmulScratch& matmul;
  AttentionScratch& attention;
};

}  // namespace ple::ops
