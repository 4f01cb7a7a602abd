#include "quant/ggml_types.h"

#include <cctype>
#include <cstring>

namespace ple {
namespace {

// Indexed by type id. Sizes are those of the GGUF/ggml block layouts (see quant/blocks.h for
// the types this build computes with; the IQ/TQ/MXFP4 rows let the reader size tensors it can
// only describe).
constexpr GGMLTypeInfo kTypes[kGGMLTypeCount] = {
    {"F32", 1, 4, true},       {"F16", 1, 2, true},       {"Q4_0", 32, 18, true},
    {"Q4_1", 32, 20, true},    {nullptr, 0, 0, false},    {nullptr, 0, 0, false},
    {"Q5_0", 32, 22, true},    {"Q5_1", 32, 24, true},    {"Q8_0", 32, 34, true},
    {"Q8_1", 32, 36, true},    {"Q2_K", 256, 84, true},   {"Q3_K", 256, 110, true},
    {"Q4_K", 256, 144, true},  {"Q5_K", 256, 176, true},  {"Q6_K", 256, 210, true},
    {"Q8_K", 256, 292, true},  {"IQ2_XXS", 256, 66, false}, {"IQ2_XS", 256, 74, false},
    {"IQ3_XXS", 256, 98, false}, {"IQ1_S", 256, 50, false}, {"IQ4_NL", 32, 18, false},
    {"IQ3_S", 256, 110, false}, {"IQ2_S", 256, 82, false}, {"IQ4_XS", 256, 136, false},
    {"I8", 1, 1, false},       {"I16", 1, 2, false},      {"I32", 1, 4, false},
    {"I64", 1, 8, false},      {"F64", 1, 8, false},      {"IQ1_M", 256, 56, false},
    {"BF16", 1, 2, true},      {nullptr, 0, 0, false},    {nullptr, 0, 0, false},
    {nullptr, 0, 0, false},    {"TQ1_0", 256, 54, false}, {"TQ2_0", 256, 66, false},
    {nullptr, 0, 0, false},    {nullptr, 0, 0, false},    {nullptr, 0, 0, false},
    {"MXFP4", 32, 17, false},
};

}  // namespace

const GGMLTypeInfo* ggml_type_info(uint32_t id) {
  if (id >= kGGMLTypeCount || kTypes[id].name == nullptr) return nullptr;
  return &kTypes[id];
}

bool ggml_type_from_name(const std::string& name, GGMLType* out) {
  for (uint32_t id = 0; id < kGGMLTypeCount; ++id) {
    const char* candidate = kTypes[id].name;
    if (candidate == nullptr || std::strlen(candidate) != name.size()) continue;
    bool equal = true;
    for (size_t i = 0; i < name.size() && equal; ++i) {
      equal = std::toupper(static_cast<unsigned char>(name[i])) == candidate[i];
    }
    if (equal) {
      *out = static_cast<GGMLType>(id);
      return true;
    }
  }
  return false;
}

}  // namespace ple
