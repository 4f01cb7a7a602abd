// The weight operand of the ops: a matrix's rows as they are in the mapped file, and optionally
// its first rows also in a kernel table's load-time packed layout (packed_weights.h). The view is
// always valid (a prefix may be packed, never the rest).
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/kernel_table.h"
#include "ops/tensor_view.h"

namespace ple {

struct PackedRows {
  const kernels::PackedKernels* kernels = nullptr;  // the layout's kernels; nullptr: nothing packed
  const uint8_t* groups = nullptr;                  // group g (kernels->rows rows) at groups + g * group_bytes
  int64_t rows = 0;                                 // rows [0, rows) are packed: whole groups
  size_t group_bytes = 0;
  const uint8_t* group(int64_t g) const { return groups + static_cast<size_t>(g) * group_bytes; }
};

struct WeightMatrix {
  MatrixView view;
  PackedRows packed;
};

}  // namespace ple
