// Load-time packed weights (ruy's pack stage): which of a model's matrices take their kernel
// table's packed layout (kernel_table.h, PackedKernels), building that layout or mapping it from
// the layout cache file (io/layout_cache.h), and binding each WeightMatrix to its packed rows. The
// model and the ops only consume the result; a table adds a layout without touching either.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "io/mapped_file.h"
#include "kernels/kernel_table.h"
#include "weights/weight_matrix.h"

namespace ple {

class PackedWeights {
 public:
  PackedWeights() = default;
  // Packs those of `matrices` (views of `file`) whose type has a layout in `table`. With a
  // `cache_dir`, the layout is mapped from its cache file there, or written to it and then mapped;
  // otherwise, or when the file cannot be read or written, it is built in anonymous memory, only
  // when it fits in half of the available memory. The file's pages of packed rows are released.
  // Matrices left unpacked keep an empty PackedRows. `model_fingerprint` identifies the file's
  // contents (LlamaModel::fingerprint).
  PackedWeights(const kernels::KernelTable& table, const GGUFFile& file, uint64_t model_fingerprint,
                const std::vector<WeightMatrix*>& matrices, const std::string& cache_dir);

  // Bytes of weights held in the packed layout (0 when none or skipped).
  uint64_t bytes() const { return bytes_; }
  // The layout cache file mapped for them ("" when the layout is in anonymous memory or absent).
  std::string cache_path() const { return cache_file_ ? cache_file_->path() : std::string(); }
  // IoError when the mapped layout cache file changed on disk (MappedFile).
  void check_unchanged() const {
    if (cache_file_) cache_file_->check_unchanged();
  }

 private:
  struct FreeDeleter {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, FreeDeleter> memory_;
  std::unique_ptr<MappedFile> cache_file_;
  uint64_t bytes_ = 0;
};

// Rewrites `groups` whole groups of kernels.rows rows of w (n columns, w_stride bytes apart) into
// the kernels' packed layout at out, group g at out + g * group_bytes(n).
void pack_rows(const kernels::PackedKernels& kernels, int64_t n, const uint8_t* w, size_t w_stride, int64_t groups,
               uint8_t* out);

}  // namespace ple
