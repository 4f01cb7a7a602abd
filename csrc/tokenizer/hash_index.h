// Flat open-addressing hash tables for the vocabulary lookups (text -> id, merge pair -> rank).
// std::unordered_map allocates a node per entry; with 128k tokens and 280k merges that made
// building a Llama 3 tokenizer take most of a second. Insert-only, linear probing, load <= 1/2.
#pragma once
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace ple {

namespace detail {
inline size_t table_size_for(size_t n) {
  size_t size = 16;
  while (size < 2 * n) size *= 2;
  return size;
}
}  // namespace detail

// string_view -> int32 value. Keys are views: their bytes must outlive the table.
class StringIdMap {
 public:
  explicit StringIdMap(size_t expected = 0) { slots_.resize(detail::table_size_for(expected)); }

  // Inserts when absent; returns false (keeping the old value) when present.
  bool insert(std::string_view key, int32_t value) {
    if (2 * (count_ + 1) > slots_.size()) grow();
    const size_t h = std::hash<std::string_view>{}(key);
    for (size_t i = h & mask();; i = (i + 1) & mask()) {
      Slot& s = slots_[i];
      if (s.value < 0) {
        s = {key, h, value};
        ++count_;
        return true;
      }
      if (s.hash == h && s.key == key) return false;
    }
  }
  int32_t find(std::string_view key) const {  // -1 when absent
    const size_t h = std::hash<std::string_view>{}(key);
    for (size_t i = h & mask();; i = (i + 1) & mask()) {
      const Slot& s = slots_[i];
      if (s.value < 0) return -1;
      if (s.hash == h && s.key == key) return s.value;
    }
  }
  bool contains(std::string_view key) const { return find(key) >= 0; }
  size_t size() const { return count_; }

 private:
  struct Slot {
    std::string_view key;
    size_t hash = 0;
    int32_t value = -1;  // -1: empty
  };
  size_t mask() const { return slots_.size() - 1; }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    count_ = 0;
    for (const Slot& s : old) {
      if (s.value >= 0) insert(s.key, s.value);
    }
  }
  std::vector<Slot> slots_;
  size_t count_ = 0;
};

// (int32 left, int32 right) -> (int32 rank, int32 result), keys non-negative.
class PairMap {
 public:
  struct Value {
    int32_t rank, result;
  };
  explicit PairMap(size_t expected = 0) { slots_.resize(detail::table_size_for(expected)); }

  bool insert(int32_t left, int32_t right, Value v) {
    if (2 * (count_ + 1) > slots_.size()) grow();
    const uint64_t key = pack(left, right);
    for (size_t i = hash(key) & mask();; i = (i + 1) & mask()) {
      Slot& s = slots_[i];
      if (s.key == kEmpty) {
        s = {key, v};
        ++count_;
        return true;
      }
      if (s.key == key) return false;
    }
  }
  const Value* find(int32_t left, int32_t right) const {  // nullptr when absent
    const uint64_t key = pack(left, right);
    for (size_t i = hash(key) & mask();; i = (i + 1) & mask()) {
      const Slot& s = slots_[i];
      if (s.key == kEmpty) return nullptr;
      if (s.key == key) return &s.value;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  struct Slot {
    uint64_t key = kEmpty;
    Value value{0, 0};
  };
  static uint64_t pack(int32_t l, int32_t r) { return (static_cast<uint64_t>(static_cast<uint32_t>(l)) << 32) | static_cast<uint32_t>(r); }
  static size_t hash(uint64_t key) {  // splitmix64's finalizer: every key bit reaches the low bits
    key = (key ^ (key >> 30)) * 0xBF58476D1CE4E5B9ull;
    key = (key ^ (key >> 27)) * 0x94D049BB133111EBull;
    return static_cast<size_t>(key ^ (key >> 31));
  }
  size_t mask() const { return slots_.size() - 1; }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    count_ = 0;
    for (const Slot& s : old) {
      if (s.key != kEmpty) insert(static_cast<int32_t>(s.key >> 32), static_cast<int32_t>(s.key & 0xFFFFFFFFu), s.value);
    }
  }
  std::vector<Slot> slots_;
  size_t count_ = 0;
};

}  // namespace ple
