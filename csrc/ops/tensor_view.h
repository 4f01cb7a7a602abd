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
  const uint8_t* row(int64_t r) const { return data + static_cast<size_t>(r) * row_bytes; }
};

}  // namespace ple
