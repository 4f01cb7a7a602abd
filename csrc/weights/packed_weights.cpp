#include "weights/packed_weights.h"

#include <cstdlib>

#include "core/cpu_count.h"
#include "core/memory_info.h"
#include "io/layout_cache.h"

namespace ple {
namespace {

// A matrix whose type has a layout in the table, with its entry in the layout (entries[i] is
// candidates[i]'s).
struct Candidate {
  WeightMatrix* matrix;
  const kernels::PackedKernels* kernels;
};

// The matrices whose type has a layout in the table and at least one whole group of rows.
std::vector<Candidate> choose_matrices(const kernels::KernelTable& table, const std::vector<WeightMatrix*>& matrices) {
  std::vector<Candidate> out;
  for (WeightMatrix* m : matrices) {
    const kernels::PackedKernels& pk = table.for_type(m->view.type).packed;
    if (pk.pack != nullptr && m->view.rows >= pk.rows) out.push_back(Candidate{m, &pk});
  }
  return out;
}

std::vector<LayoutEntry> layout_entries(const std::vector<Candidate>& candidates) {
  std::vector<LayoutEntry> out;
  for (const Candidate& c : candidates) {
    const MatrixView& v = c.matrix->view;
    out.push_back(LayoutEntry{v.data, static_cast<uint32_t>(v.type), v.rows, v.cols, v.row_bytes, c.kernels->name,
                              v.rows / c.kernels->rows, c.kernels->group_bytes(v.cols), true});
  }
  return out;
}

// Whether the kernels take each matrix: reads its weights, so only when the layout is built.
void decide_included(const std::vector<Candidate>& candidates, std::vector<LayoutEntry>& entries) {
  for (size_t i = 0; i < candidates.size(); ++i) {
    const kernels::PackedKernels& pk = *candidates[i].kernels;
    const MatrixView& v = candidates[i].matrix->view;
    entries[i].included = pk.accepts == nullptr || pk.accepts(v.cols, v.data, v.row_bytes, entries[i].groups * pk.rows);
  }
}

uint64_t layout_bytes(const std::vector<LayoutEntry>& entries) {
  uint64_t total = 0;
  for (const LayoutEntry& e : entries) total += e.included ? static_cast<uint64_t>(e.groups) * e.group_bytes : 0;
  return total;
}

// Points every included matrix at its groups, which follow each other in `layout`.
void bind_packed_rows(const std::vector<Candidate>& candidates, const std::vector<LayoutEntry>& entries, const uint8_t* layout) {
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (!entries[i].included) continue;
    candidates[i].matrix->packed = PackedRows{candidates[i].kernels, layout, entries[i].groups * candidates[i].kernels->rows,
                                              entries[i].group_bytes};
    layout += static_cast<size_t>(entries[i].groups) * entries[i].group_bytes;
  }
}

void pack_entry(const Candidate& c, const LayoutEntry& e, uint8_t* out) {
  pack_rows(*c.kernels, c.matrix->view.cols, c.matrix->view.data, c.matrix->view.row_bytes, e.groups, out);
}

// The packed rows are served from the layout: the file's pages for them are released (a tied
// output's embedding lookups fault single rows back in on demand).
void release_rows(const GGUFFile& file, const Candidate& c, const LayoutEntry& e) {
  file.release(c.matrix->view.data, static_cast<uint64_t>(e.groups * c.kernels->rows) * c.matrix->view.row_bytes);
}

}  // namespace

PackedWeights::PackedWeights(const kernels::KernelTable& table, const GGUFFile& file, uint64_t model_fingerprint,
                             const std::vector<WeightMatrix*>& matrices, const std::string& cache_dir) {
  const std::vector<Candidate> candidates = choose_matrices(table, matrices);
  if (candidates.empty()) return;
  std::vector<LayoutEntry> entries = layout_entries(candidates);

  // A layout cache file of this model and kernel table is mapped as it is (its flags say which
  // matrices are in it). Otherwise the layout is built: written to the cache file and mapped from
  // it, or, when there is none or it cannot be written, kept in anonymous memory for this process.
  std::string cache_path;
  uint64_t key = 0;
  const auto map_cache_file = [&] {
    LayoutCacheFile cached = open_layout_cache(cache_path, key, file.mapped(), entries, default_thread_count());
    cache_file_ = std::move(cached.file);
    if (cache_file_ != nullptr && layout_bytes(entries) > 0) {
      bind_packed_rows(candidates, entries, cached.data);
      bytes_ = layout_bytes(entries);
    }
    return cache_file_ != nullptr;
  };
  if (!cache_dir.empty()) {
    key = layout_key(model_fingerprint, file.mapped(), table.isa, entries);
    cache_path = layout_cache_path(cache_dir, file.path(), table.isa, key);
    if (map_cache_file()) return;
  }
  decide_included(candidates, entries);
  const uint64_t total = layout_bytes(entries);
  if (total == 0) return;
  if (!cache_path.empty() &&
      write_layout_cache(
          cache_path, key, file.mapped(), entries, [&](size_t i, uint8_t* out) { pack_entry(candidates[i], entries[i], out); },
          [&](size_t i) { release_rows(file, candidates[i], entries[i]); }) &&
      map_cache_file()) {
    return;
  }
  // An optimization: leave room for the KV cache and everything else.
  const uint64_t available = available_memory_bytes();
  if (available != 0 && total > available / 2) return;
  void* storage = nullptr;
  if (posix_memalign(&storage, 64, static_cast<size_t>(total)) != 0) return;
  memory_.reset(static_cast<uint8_t*>(storage));
  uint8_t* out = memory_.get();
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (!entries[i].included) continue;
    pack_entry(candidates[i], entries[i], out);
    out += static_cast<size_t>(entries[i].groups) * entries[i].group_bytes;
    release_rows(file, candidates[i], entries[i]);
  }
  bind_packed_rows(candidates, entries, memory_.get());
  bytes_ = total;
}

void pack_rows(const kernels::PackedKernels& kernels, int64_t n, const uint8_t* w, size_t w_stride, int64_t groups,
               uint8_t* out) {
  const size_t group_bytes = kernels.group_bytes(n);
  for (int64_t g = 0; g < groups; ++g) {
    kernels.pack(n, w + static_cast<size_t>(g * kernels.rows) * w_stride, w_stride, out + static_cast<size_t>(g) * group_bytes);
  }
}

}  // namespace ple
