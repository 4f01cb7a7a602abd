// The load-time packed weight layout (csrc/weights/) kept in a cache file, so it stays file-backed like
// the model itself: written once (the first load of a model with a given kernel table), then
// memory-mapped on later loads, which costs address space, not RAM, and whose pages the OS may
// share between processes and reclaim under pressure.
//
// File (version 3): a 64-byte header (magic "PLELAYT\0", format version, header size, key, data
// bytes, entry count, record size, header checksum), the model record (which file the layout
// was made from: size, modification time, device, inode, absolute path; read by `pyllama-edge
// cache list/clean`), one byte per candidate matrix saying whether it is in the layout (a kernel
// may refuse a matrix, PackedKernels::accepts, decided once when the file is written), one
// checksum (bulk_hash) per included matrix, each section padded to 64 bytes, then the groups of
// every included matrix in order.
//
// The key hashes what the bytes depend on: the model file's fingerprint (GGUF header, metadata
// and tensor table), size, modification time and identity (device, inode: a `cp -p` copy gets its
// own layout), a sample of every candidate matrix's bytes, the kernel table and every candidate's
// offset, shape, type and layout. The file name carries a hash of the model's directory, so models
// of the same name in two folders keep a layout each. Before a file is used its header, record,
// flags and size must match and every matrix's checksum must hold (checked in parallel over the
// mapped file); anything else is rebuilt, never run. The kernels read only within the sizes
// computed from the model, never from the file.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "io/mapped_file.h"

namespace ple {

// One candidate matrix of a layout, as the file format sees it: where its rows are in the model
// file, its shape and type, and the size of its packed form. The format knows nothing of kernels:
// the caller packs (write_layout_cache's `pack`).
struct LayoutEntry {
  const uint8_t* rows;      // row 0 in the mapped model file
  uint32_t type;            // GGML type id
  int64_t n_rows, cols;
  size_t row_bytes;
  const char* layout_name;  // the packing kernels' name (part of the key)
  int64_t groups;           // whole groups packed
  size_t group_bytes;
  bool included;            // in the layout (the kernels accept the matrix)
};

// "<dir>/<model file name without .gguf>-<model directory hash, 8 hex>-<isa>-<key, 16 hex>.layout"
std::string layout_cache_path(const std::string& dir, const std::string& model_path, const char* isa, uint64_t key);

// The key of a layout: see above.
uint64_t layout_key(uint64_t model_fingerprint, const MappedFile& model, const char* isa,
                    const std::vector<LayoutEntry>& entries);

// A usable cache file at `path`: header, record and flags match, and every included matrix's
// checksum holds (verified with up to n_threads threads). Sets `included` of every target from
// the file and returns it with `data` pointing at the groups. nullptr otherwise (entries
// untouched; the caller rebuilds).
struct LayoutCacheFile {
  std::unique_ptr<MappedFile> file;
  const uint8_t* data = nullptr;
};
LayoutCacheFile open_layout_cache(const std::string& path, uint64_t key, const MappedFile& model,
                                  std::vector<LayoutEntry>& entries, int n_threads);

// Writes the layout of the included `entries` to `path` through AtomicFileWriter, then removes the
// other layouts of the same model file (same name, directory and ISA) from the directory.
// `pack(i, out)` writes entry i's groups * group_bytes bytes; `written(i)` is called after each
// included entry is written. Returns false (leaving no file behind) on any failure.
bool write_layout_cache(const std::string& path, uint64_t key, const MappedFile& model,
                        const std::vector<LayoutEntry>& entries,
                        const std::function<void(size_t entry, uint8_t* out)>& pack,
                        const std::function<void(size_t entry)>& written);

// What a layout cache file says about itself, for listing and cleaning the cache.
struct LayoutCacheInfo {
  bool readable = false;      // a version-3 layout file whose header and record are intact
  std::string model_path;     // absolute path of the model it was made from
  uint64_t model_size = 0;
  int64_t model_mtime_ns = 0;
  uint64_t model_device = 0, model_inode = 0;
  uint64_t data_bytes = 0;
  // The model file at model_path is the one the layout was made from (same size, time, identity).
  bool model_present = false;
};
LayoutCacheInfo read_layout_cache_info(const std::string& path);

}  // namespace ple
