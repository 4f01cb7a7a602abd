// Tensor element types as numbered in GGUF files, with their block geometry.
#pragma once
#include <cstdint>
#include <string>

namespace ple {

enum class GGMLType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
  IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
  TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39,
};
constexpr uint32_t kGGMLTypeCount = 40;  // one past the largest id above

struct GGMLTypeInfo {
  const char* name;     // nullptr for ids that are unassigned or retired
  uint32_t block_size;  // elements per block
  uint32_t type_size;   // bytes per block
  bool can_dequantize;  // this build implements the scalar dequantization
};

// Info for a raw id read from a file; nullptr when the id is not a known type.
const GGMLTypeInfo* ggml_type_info(uint32_t id);
inline const GGMLTypeInfo& ggml_type_info(GGMLType t) { return *ggml_type_info(static_cast<uint32_t>(t)); }
inline const char* ggml_type_name(GGMLType t) { return ggml_type_info(t).name; }

// Looks a type up by its name ("Q4_0", case-insensitive); false when unknown.
bool ggml_type_from_name(const std::string& name, GGMLType* out);

}  // namespace ple
