// Weight quantizers for offline model quantization: float32 rows -> GGUF blocks of a weight type,
// quality first (weighted least-squares searches for the k-quants). Not on the inference path, so
// they are scalar and live outside the kernel tables.
#pragma once
#include <cstdint>

#include "quant/ggml_types.h"

namespace ple {

// n floats (a multiple of the type's block size) -> n / block_size blocks.
using WeightQuantizeFn = void (*)(const float* x, void* blocks, int64_t n);

// The quantizer of a weight type; nullptr when the type has none (F32, F16, BF16 and the
// activation formats Q8_1 / Q8_K).
WeightQuantizeFn weight_quantizer(GGMLType type);

}  // namespace ple
