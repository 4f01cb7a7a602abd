// A loaded Llama-architecture model: hyper-parameters from `llama.*` metadata and weights bound
// as zero-copy views of the mapped GGUF file. Immutable after load; shared by any number of
// Sessions across threads.
#pragma once
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "kernels/kernel_table.h"
#include "ops/tensor_view.h"
#include "weights/packed_weights.h"
#include "weights/weight_matrix.h"

namespace ple {

struct LlamaHParams {
  int64_t n_layer = 0;
  int64_t n_embd = 0;     // model width
  int64_t n_ff = 0;       // feed-forward width
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;   // n_embd / n_head
  int64_t n_rot = 0;      // rotated dimensions per head (even, <= head_dim)
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  float rope_base = 10000.0f;
  float rope_linear_scale = 1.0f;  // positions are divided by this (llama.rope.scaling.type = linear)
  float rms_eps = 1e-5f;
  int64_t q_dim() const { return n_head * head_dim; }
  int64_t kv_dim() const { return n_head_kv * head_dim; }
};

struct LlamaLayer {
  std::vector<float> attn_norm, ffn_norm;  // [n_embd]
  WeightMatrix wq, wk, wv, wo;             // q/k/v: n_embd -> q_dim/kv_dim; wo: q_dim -> n_embd
  WeightMatrix w_gate, w_up, w_down;       // gate/up: n_embd -> n_ff; down: n_ff -> n_embd
};

struct ModelOptions {
  // Pack the matrices whose type has a load-time layout in the model's kernel table
  // (weights/packed_weights.h; Q4_0, Q4_1, Q8_0, Q4_K, and Q6_K on ARM): faster decode and prefill.
  // The file's pages of those rows are then released.
  bool interleave_weights = true;
  // Where the layout is kept (io/layout_cache.h): a cache file in this directory, written on
  // the first load and memory-mapped on later ones, so the weights stay file-backed and load
  // lazily. Empty, or when the file cannot be read or written: a copy in anonymous memory, made
  // only when it fits in half of the available memory.
  std::string layout_cache_dir;
  // The kernel path ("scalar", "avx2", "avx512", "neon", "dotprod", "i8mm"); empty: the widest
  // this CPU runs, capped by PYLLAMA_EDGE_ISA (kernels::kernel_table_named).
  std::string isa;
};

class LlamaModel {
 public:
  // Throws FormatError (missing/inconsistent metadata or tensors) or UnsupportedError.
  explicit LlamaModel(std::shared_ptr<const GGUFFile> file, const ModelOptions& options = {});

  const LlamaHParams& hparams() const { return hp_; }
  const GGUFFile& file() const { return *file_; }
  // The kernel table chosen for this model; the ops get it through their Context.
  const kernels::KernelTable& kernels() const { return *kernels_; }
  const std::shared_ptr<const GGUFFile>& file_ptr() const { return file_; }

  const MatrixView& token_embd() const { return token_embd_; }
  const WeightMatrix& output() const { return output_; }  // token_embd when the output is tied
  bool output_tied() const { return output_tied_; }
  const std::vector<float>& output_norm() const { return output_norm_; }
  const std::vector<LlamaLayer>& layers() const { return layers_; }
  // Per-pair inverse frequencies (n_rot/2), rope_freqs factors and linear scaling folded in.
  const std::vector<float>& rope_inv_freq() const { return rope_inv_freq_; }
  // Bytes of weights one decoded token reads (all matrices + the output head).
  uint64_t weight_bytes_per_token() const;
  // Identifies the file's contents for saved sessions: FNV-1a over the header, metadata and
  // tensor table (everything before the tensor data) and the file size.
  uint64_t fingerprint() const { return fingerprint_; }
  // Bytes of weights held in the packed load-time layout (0 when none or skipped).
  uint64_t interleaved_bytes() const { return packed_.bytes(); }
  // The layout cache file mapped for them ("" when the layout is in anonymous memory or absent).
  std::string layout_cache_path() const { return packed_.cache_path(); }
  // IoError when the model file or the mapped layout cache changed on disk (MappedFile).
  void check_unchanged() const {
    file_->check_unchanged();
    packed_.check_unchanged();
  }

 private:
  MatrixView matrix(const std::string& name, int64_t cols, int64_t rows) const;
  std::vector<float> vector(const std::string& name, int64_t n) const;

  std::shared_ptr<const GGUFFile> file_;
  const kernels::KernelTable* kernels_;
  LlamaHParams hp_;
  MatrixView token_embd_;
  WeightMatrix output_;
  bool output_tied_ = false;
  std::vector<float> output_norm_;
  std::vector<LlamaLayer> layers_;
  std::vector<float> rope_inv_freq_;
  uint64_t fingerprint_ = 0;
  PackedWeights packed_;  // last: binds into layers_ and output_
};

}  // namespace ple
