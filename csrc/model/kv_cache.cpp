#include "model/kv_cache.h"

#include <cctype>

#include "core/checked_math.h"
#include "core/error.h"
#include "core/fp16.h"
#include "ops/ops.h"

namespace ple {

GGMLType kv_type_from_name(const std::string& name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "f16") return GGMLType::F16;
  if (lower == "q8_0") return GGMLType::Q8_0;
  throw InvalidArgument("kv_type must be 'f16' or 'q8_0', got '" + name + "'");
}

const char* kv_type_name(GGMLType type) { return type == GGMLType::Q8_0 ? "q8_0" : "f16"; }

uint64_t KVCache::row_bytes(GGMLType type, int64_t kv_dim) {
  const GGMLTypeInfo& info = ggml_type_info(type);
  return static_cast<uint64_t>(kv_dim) / info.block_size * info.type_size;
}

uint64_t KVCache::bytes_needed(GGMLType type, int64_t n_layer, int64_t n_ctx, int64_t kv_dim) {
  uint64_t rows = 0, bytes = 0;
  if (!checked_mul(static_cast<uint64_t>(n_layer), static_cast<uint64_t>(n_ctx), &rows) ||
      !checked_mul(rows, 2 * row_bytes(type, kv_dim), &bytes)) {
    throw ResourceError("the KV cache for n_ctx " + std::to_string(n_ctx) + " does not fit in 64 bits");
  }
  return bytes;
}

KVCache::KVCache(GGMLType type, int64_t n_layer, int64_t n_ctx, int64_t kv_dim, int64_t head_dim)
    : type_(type), n_layer_(n_layer), kv_dim_(kv_dim), head_dim_(head_dim) {
  if (type != GGMLType::F16 && type != GGMLType::Q8_0) throw InvalidArgument("kv_type must be 'f16' or 'q8_0'");
  const int64_t block = ggml_type_info(type).block_size;
  if (head_dim % block != 0) {
    throw InvalidArgument(std::string("kv_type '") + kv_type_name(type) + "' needs a head size that is a multiple of " +
                          std::to_string(block) + "; this model's is " + std::to_string(head_dim) + " (use kv_type='f16')");
  }
  const uint64_t total = bytes_needed(type, n_layer, n_ctx, kv_dim);
  row_bytes_ = static_cast<size_t>(row_bytes(type, kv_dim));
  layer_bytes_ = row_bytes_ * static_cast<size_t>(n_ctx);
  // Left uninitialized on purpose: positions past the history are never read.
  k_.reset(new uint8_t[total / 2]);
  v_.reset(new uint8_t[total / 2]);
}

void KVCache::store(const ops::Context& ctx, int64_t layer, int64_t pos, const float* k, const float* v) {
  ops::store_kv_row(ctx, type_, k, k_rows(layer) + static_cast<size_t>(pos) * row_bytes_, kv_dim_);
  ops::store_kv_row(ctx, type_, v, v_rows(layer) + static_cast<size_t>(pos) * row_bytes_, kv_dim_);
}

ops::KVLayer KVCache::layer(int64_t l) const {
  return ops::KVLayer{type_, k_rows(l), v_rows(l), row_bytes_, static_cast<size_t>(row_bytes(type_, head_dim_))};
}

}  // namespace ple
