// Overflow-checked arithmetic for sizes read from files: every product or sum of untrusted
// values goes through these before it is used as a size or offset.
#pragma once
#include <cstdint>

namespace ple {

// Returns false (and leaves *out unspecified) when a*b does not fit in uint64_t.
inline bool checked_mul(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}
inline bool checked_add(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_add_overflow(a, b, out);
}
inline uint64_t align_up(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

}  // namespace ple
