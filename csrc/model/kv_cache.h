// The KV cache of one session: for every layer, n_ctx rows of K and of V (kv_dim elements each),
// stored as F16 or as Q8_0. Q8_0 blocks run along a row and each head's slice is whole blocks, so
// attention reads one head of one position as a Q8_0 vector; it halves the cache (34 bytes per
// 32 elements against 64) at the cost of rounding K and V to 8 bits per block scale.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "ops/attention.h"
#include "quant/ggml_types.h"

namespace ple {

// "f16" or "q8_0" (case-insensitive); InvalidArgument naming the accepted values otherwise.
GGMLType kv_type_from_name(const std::string& name);
// "f16" or "q8_0".
const char* kv_type_name(GGMLType type);

class KVCache {
 public:
  KVCache() = default;
  // Storage is reserved, not touched: the OS commits pages as the context fills. Throws
  // InvalidArgument when the type cannot hold heads of head_dim elements.
  KVCache(GGMLType type, int64_t n_layer, int64_t n_ctx, int64_t kv_dim, int64_t head_dim);

  // Bytes of K and V for all layers and n_ctx positions; ResourceError when not representable.
  static uint64_t bytes_needed(GGMLType type, int64_t n_layer, int64_t n_ctx, int64_t kv_dim);
  // Bytes of one position's K (or V) row of kv_dim elements.
  static uint64_t row_bytes(GGMLType type, int64_t kv_dim);

  GGMLType type() const { return type_; }
  size_t row_bytes() const { return row_bytes_; }
  uint64_t bytes() const { return 2 * static_cast<uint64_t>(layer_bytes_) * static_cast<uint64_t>(n_layer_); }

  // Converts the K and V rows (kv_dim floats each) of one position into the cache type.
  void store(const ops::Context& ctx, int64_t layer, int64_t pos, const float* k, const float* v);
  ops::KVLayer layer(int64_t layer) const;

  // Raw rows, for saving and restoring sessions: position 0 of a layer.
  uint8_t* k_rows(int64_t layer) { return k_.get() + static_cast<size_t>(layer) * layer_bytes_; }
  uint8_t* v_rows(int64_t layer) { return v_.get() + static_cast<size_t>(layer) * layer_bytes_; }
  const uint8_t* k_rows(int64_t layer) const { return k_.get() + static_cast<size_t>(layer) * layer_bytes_; }
  const uint8_t* v_rows(int64_t layer) const { return v_.get() + static_cast<size_t>(layer) * layer_bytes_; }

 private:
  GGMLType type_ = GGMLType::F16;
  int64_t n_layer_ = 0, kv_dim_ = 0, head_dim_ = 0;
  size_t row_bytes_ = 0, layer_bytes_ = 0;
  std::unique_ptr<uint8_t[]> k_, v_;
};

}  // namespace ple
