// The load-time interleaved weight layout kept in a cache file, so that it stays file-backed like
// the model itself: written once (the first load of a model with a given kernel table), then
// memory-mapped on later loads, which costs address space, not RAM or load time, and whose pages
// the OS may share between processes and reclaim under pressure.
//
// File: a 64-byte header (magic "PLELAYT\0", format version, header size, key, data bytes,
// entry count), one byte per candidate matrix saying whether it is in the layout (a kernel may
// refuse a matrix, InterleavedKernels::accepts, which is decided once when the file is written),
// padded to 64 bytes, then the groups of every included matrix in order. The key hashes what the
// bytes depend on: the model file's fingerprint, size and modification time, the kernel table
// and every candidate's offset, shape, type and layout. A file whose header, flags, size or key
// does not match is not used (it is rebuilt); the kernels read only within the sizes computed
// from the model, never from the file. Loading from the cache reads no weight of the model file.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "io/mapped_file.h"
#include "kernels/kernel_table.h"
#include "ops/tensor_view.h"

namespace ple {

struct LayoutTarget {
  MatrixView* matrix;
  const kernels::InterleavedKernels* kernels;
  int64_t groups;      // whole groups of kernels->rows rows
  size_t group_bytes;  // kernels->group_bytes(matrix->cols)
  bool included;       // in the layout (the kernels accept the matrix)
};

// "<dir>/<model file name without .gguf>-<isa>-<key as 16 hex digits>.layout"
std::string layout_cache_path(const std::string& dir, const std::string& model_path, const char* isa, uint64_t key);

// The key of a layout: see above. `model_fingerprint` covers the GGUF header, metadata and tensor
// table; size and modification time stand for the tensor data.
uint64_t layout_key(uint64_t model_fingerprint, const MappedFile& model, const char* isa,
                    const std::vector<LayoutTarget>& targets);

// The mapped cache file at `path` when it exists and its header, flags and size match; sets
// `included` of every target from the file. nullptr otherwise (targets untouched).
std::unique_ptr<MappedFile> open_layout_cache(const std::string& path, uint64_t key, std::vector<LayoutTarget>& targets);

// The offset of the groups in a cache file of n targets.
uint64_t layout_cache_data_offset(size_t n_targets);

// Writes the layout of the included `targets` (interleaving the rows each views) to `path`
// through a temporary file, flushed to disk and renamed into place, then removes the other
// layouts of the same model file name and ISA from the directory. `written(target)` is called
// after each included matrix. Returns false (leaving no file behind) on any failure.
bool write_layout_cache(const std::string& path, uint64_t key, const std::vector<LayoutTarget>& targets,
                        const std::function<void(const LayoutTarget&)>& written);

}  // namespace ple
