#include "model/memory_estimate.h"

#include <algorithm>
#include <string>

#include "model/kv_cache.h"

namespace ple {
namespace {

// A positive integer at `key`, or 0 (absent, another type, a per-layer array, or not positive).
int64_t positive_int(const GGUFFile& file, const std::string& key) {
  const GGUFValue* v = file.find(key);
  if (v == nullptr || !v->is_integer()) return 0;
  if (v->type == GGUFValueType::U64) return v->u > 0 && v->u <= INT64_MAX ? static_cast<int64_t>(v->u) : 0;
  return v->i > 0 ? v->i : 0;
}

}  // namespace

std::optional<MemoryEstimate> estimate_memory(const GGUFFile& file, int64_t n_ctx, GGMLType kv_type) {
  const std::string arch = file.get_string("general.architecture", "?") + ".";
  const int64_t n_layer = positive_int(file, arch + "block_count");
  const int64_t n_embd = positive_int(file, arch + "embedding_length");
  const int64_t n_head = positive_int(file, arch + "attention.head_count");
  const int64_t n_head_kv =
      file.has(arch + "attention.head_count_kv") ? positive_int(file, arch + "attention.head_count_kv") : n_head;
  const int64_t ctx_train = positive_int(file, arch + "context_length");
  if (n_layer == 0 || n_embd == 0 || n_head == 0 || n_head_kv == 0 || ctx_train == 0) return std::nullopt;

  MemoryEstimate estimate;
  estimate.n_ctx = n_ctx > 0 ? n_ctx : std::min<int64_t>(4096, ctx_train);
  for (const GGUFTensorInfo& t : file.tensors()) estimate.weight_bytes += t.nbytes;
  const int64_t head_dim = n_embd / n_head;
  if (head_dim % ggml_type_info(kv_type).block_size == 0) {
    estimate.kv_cache_bytes = KVCache::bytes_needed(kv_type, n_layer, estimate.n_ctx, head_dim * n_head_kv);
  }
  return estimate;
}

}  // namespace ple
