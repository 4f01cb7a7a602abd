// A zero-copy view of a 2-D weight matrix in the mapped file: `rows` rows of `cols` elements,
// each row `row_bytes` long. y = W x means y[r] = dot(row r, x).
#pragma once
#include <cstddef>
#include <cstdint>

#include "quant/ggml_types.h"

namespace ple {

struct MatrixView {
  const uint8_t* data = nullptr;
  GGMLType type = GGMLType::F32;
  int64_t cols = 0;  // ggml ne[0]: contiguous
  int64_t rows = 0;  // ggml ne[1]
  size_t row_bytes = 0;
  // Optional load-time layout (kernel_table.h, InterleavedKernels of the active table): rows
  // [0, interleaved_rows) also as groups of the kernels' `rows` rows, group g at interleaved +
  // g * group_bytes.
  const uint8_t* interleaved = nullptr;
  int64_t interleaved_rows = 0;
  size_t group_bytes = 0;
  const uint8_t* row(int64_t r) const { return data + static_cast<size_t>(r) * row_bytes; }
  const uint8_t* group(int64_t g) const { return interleaved + static_cast<size_t>(g) * group_bytes; }
};

}  // namespace ple
