#include "model/llama_model.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/hash.h"
#include "kernels/kernel_table.h"

namespace ple {
namespace {

int64_t positive(uint64_t value, const std::string& key, uint64_t limit) {
  if (value == 0 || value > limit) {
    throw FormatError("GGUF: metadata '" + key + "' = " + std::to_string(value) + " is out of range (1 to " +
                      std::to_string(limit) + ")");
  }
  return static_cast<int64_t>(value);
}

std::string shape_string(const GGUFTensorInfo& t) {
  std::string s = "[";
  for (uint32_t d = 0; d < t.n_dims; ++d) s += (d ? ", " : "") + std::to_string(t.ne[d]);
  return s + "]";
}

}  // namespace

LlamaModel::LlamaModel(std::shared_ptr<const GGUFFile> file, const ModelOptions& options)
    : file_(std::move(file)), kernels_(&kernels::kernel_table_named(options.isa)) {
  const GGUFFile& f = *file_;
  const std::string arch = f.get_string("general.architecture", "");
  if (arch.empty()) throw FormatError("GGUF: required metadata 'general.architecture' is missing");
  if (arch != "llama") {
    throw UnsupportedError("model architecture '" + arch + "' is not supported (supported: llama)");
  }
  constexpr uint64_t kMaxDim = 1u << 20;  // sanity bound on widths and counts
  hp_.n_layer = positive(f.get_uint("llama.block_count"), "llama.block_count", 4096);
  hp_.n_embd = positive(f.get_uint("llama.embedding_length"), "llama.embedding_length", kMaxDim);
  hp_.n_ff = positive(f.get_uint("llama.feed_forward_length"), "llama.feed_forward_length", kMaxDim);
  hp_.n_head = positive(f.get_uint("llama.attention.head_count"), "llama.attention.head_count", 4096);
  hp_.n_head_kv = positive(f.get_uint("llama.attention.head_count_kv", static_cast<uint64_t>(hp_.n_head)),
                           "llama.attention.head_count_kv", 4096);
  hp_.n_ctx_train = positive(f.get_uint("llama.context_length"), "llama.context_length", 1u << 24);
  if (hp_.n_embd % hp_.n_head != 0) {
    throw FormatError("GGUF: llama.embedding_length " + std::to_string(hp_.n_embd) + " is not divisible by head_count " +
                      std::to_string(hp_.n_head));
  }
  if (hp_.n_head % hp_.n_head_kv != 0) {
    throw FormatError("GGUF: llama.attention.head_count " + std::to_string(hp_.n_head) +
                      " is not a multiple of head_count_kv " + std::to_string(hp_.n_head_kv));
  }
  hp_.head_dim = hp_.n_embd / hp_.n_head;
  if (f.has("llama.attention.key_length") && static_cast<int64_t>(f.get_uint("llama.attention.key_length")) != hp_.head_dim) {
    throw UnsupportedError("llama.attention.key_length differs from embedding_length / head_count");
  }
  hp_.n_rot = static_cast<int64_t>(f.get_uint("llama.rope.dimension_count", static_cast<uint64_t>(hp_.head_dim)));
  if (hp_.n_rot <= 0 || hp_.n_rot > hp_.head_dim || hp_.n_rot % 2 != 0) {
    throw FormatError("GGUF: llama.rope.dimension_count " + std::to_string(hp_.n_rot) + " must be even and at most the head size " +
                      std::to_string(hp_.head_dim));
  }
  hp_.rope_base = static_cast<float>(f.get_float("llama.rope.freq_base", 10000.0));
  hp_.rms_eps = static_cast<float>(f.get_float("llama.attention.layer_norm_rms_epsilon", 1e-5));
  if (!(hp_.rope_base > 0.0f) || !std::isfinite(hp_.rope_base)) throw FormatError("GGUF: llama.rope.freq_base must be positive");
  if (!(hp_.rms_eps > 0.0f) || !std::isfinite(hp_.rms_eps)) throw FormatError("GGUF: llama.attention.layer_norm_rms_epsilon must be positive");
  const std::string scaling = f.get_string("llama.rope.scaling.type", "none");
  if (scaling == "linear") {
    hp_.rope_linear_scale = static_cast<float>(f.get_float("llama.rope.scaling.factor", 1.0));
    if (!(hp_.rope_linear_scale > 0.0f)) throw FormatError("GGUF: llama.rope.scaling.factor must be positive");
  } else if (scaling != "none" && scaling != "llama3") {  // llama3 scaling arrives as rope_freqs.weight
    throw UnsupportedError("rope scaling type '" + scaling + "' is not supported");
  }

  const GGUFTensorInfo* embd = f.find_tensor("token_embd.weight");
  if (embd == nullptr) throw FormatError("GGUF: tensor 'token_embd.weight' is missing");
  hp_.n_vocab = static_cast<int64_t>(embd->ne[1]);
  if (f.has("llama.vocab_size") && static_cast<int64_t>(f.get_uint("llama.vocab_size")) != hp_.n_vocab) {
    throw FormatError("GGUF: llama.vocab_size " + std::to_string(f.get_uint("llama.vocab_size")) +
                      " disagrees with token_embd.weight rows " + std::to_string(hp_.n_vocab));
  }
  token_embd_ = matrix("token_embd.weight", hp_.n_embd, hp_.n_vocab);
  if (kernels_->for_type(token_embd_.type).dequantize == nullptr) {
    throw UnsupportedError(std::string("tensor 'token_embd.weight' has unsupported type ") + ggml_type_name(token_embd_.type));
  }
  output_norm_ = vector("output_norm.weight", hp_.n_embd);
  output_tied_ = f.find_tensor("output.weight") == nullptr;
  output_.view = output_tied_ ? token_embd_ : matrix("output.weight", hp_.n_embd, hp_.n_vocab);

  layers_.resize(static_cast<size_t>(hp_.n_layer));
  for (int64_t i = 0; i < hp_.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    LlamaLayer& l = layers_[static_cast<size_t>(i)];
    l.attn_norm = vector(p + "attn_norm.weight", hp_.n_embd);
    l.ffn_norm = vector(p + "ffn_norm.weight", hp_.n_embd);
    l.wq.view = matrix(p + "attn_q.weight", hp_.n_embd, hp_.q_dim());
    l.wk.view = matrix(p + "attn_k.weight", hp_.n_embd, hp_.kv_dim());
    l.wv.view = matrix(p + "attn_v.weight", hp_.n_embd, hp_.kv_dim());
    l.wo.view = matrix(p + "attn_output.weight", hp_.q_dim(), hp_.n_embd);
    l.w_gate.view = matrix(p + "ffn_gate.weight", hp_.n_embd, hp_.n_ff);
    l.w_up.view = matrix(p + "ffn_up.weight", hp_.n_embd, hp_.n_ff);
    l.w_down.view = matrix(p + "ffn_down.weight", hp_.n_ff, hp_.n_embd);
  }

  // theta_i = base^(-2i/n_rot), divided by the llama3 scaling factor of pair i when present.
  rope_inv_freq_.resize(static_cast<size_t>(hp_.n_rot / 2));
  std::vector<float> factors;
  if (f.find_tensor("rope_freqs.weight") != nullptr) factors = vector("rope_freqs.weight", hp_.n_rot / 2);
  for (int64_t i = 0; i < hp_.n_rot / 2; ++i) {
    double inv = std::pow(static_cast<double>(hp_.rope_base), -2.0 * static_cast<double>(i) / static_cast<double>(hp_.n_rot));
    if (!factors.empty()) {
      if (!(factors[static_cast<size_t>(i)] > 0.0f)) throw FormatError("GGUF: tensor 'rope_freqs.weight' has a non-positive factor");
      inv /= factors[static_cast<size_t>(i)];
    }
    rope_inv_freq_[static_cast<size_t>(i)] = static_cast<float>(inv / hp_.rope_linear_scale);
  }

  const uint64_t size = f.file_size();
  const uint64_t header_bytes = std::min(f.data_offset(), size);
  fingerprint_ = fnv1a(f.bytes(), header_bytes);
  fingerprint_ = fnv1a(&size, sizeof size, fingerprint_);

  if (options.interleave_weights) {
    std::vector<WeightMatrix*> matrices;
    for (LlamaLayer& l : layers_) {
      for (WeightMatrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) matrices.push_back(m);
    }
    matrices.push_back(&output_);  // token_embd_ keeps the file's rows for embedding lookups
    packed_ = PackedWeights(*kernels_, *file_, fingerprint_, matrices, options.layout_cache_dir);
  }
}

MatrixView LlamaModel::matrix(const std::string& name, int64_t cols, int64_t rows) const {
  const GGUFTensorInfo* t = file_->find_tensor(name);
  if (t == nullptr) throw FormatError("GGUF: tensor '" + name + "' is missing");
  if (t->n_dims != 2 || static_cast<int64_t>(t->ne[0]) != cols || static_cast<int64_t>(t->ne[1]) != rows) {
    throw FormatError("GGUF: tensor '" + name + "' has shape " + shape_string(*t) + ", expected [" + std::to_string(cols) +
                      ", " + std::to_string(rows) + "] from the hyper-parameters");
  }
  const kernels::WeightKernels& k = kernels_->for_type(t->type);
  if (k.dot == nullptr && name != "token_embd.weight") {
    throw UnsupportedError("tensor '" + name + "' has type " + ggml_type_name(t->type) + ", which this build cannot multiply");
  }
  if (k.dot != nullptr && cols % ggml_type_info(k.activation_type).block_size != 0) {
    throw UnsupportedError("tensor '" + name + "' rows of " + std::to_string(cols) + " do not fit " +
                           ggml_type_name(k.activation_type) + " activation blocks");
  }
  MatrixView m;
  m.data = file_->tensor_data(*t);
  m.type = t->type;
  m.cols = cols;
  m.rows = rows;
  m.row_bytes = static_cast<size_t>(t->nbytes / t->ne[1]);
  return m;
}

std::vector<float> LlamaModel::vector(const std::string& name, int64_t n) const {
  const GGUFTensorInfo* t = file_->find_tensor(name);
  if (t == nullptr) throw FormatError("GGUF: tensor '" + name + "' is missing");
  if (static_cast<int64_t>(t->n_elements()) != n || t->ne[0] != static_cast<uint64_t>(n)) {
    throw FormatError("GGUF: tensor '" + name + "' has shape " + shape_string(*t) + ", expected [" + std::to_string(n) + "]");
  }
  const kernels::DequantizeRowFn fn = kernels_->for_type(t->type).dequantize;
  if (fn == nullptr) throw UnsupportedError("tensor '" + name + "' has unsupported type " + ggml_type_name(t->type));
  std::vector<float> out(static_cast<size_t>(n));
  fn(file_->tensor_data(*t), out.data(), n);
  return out;
}

uint64_t LlamaModel::weight_bytes_per_token() const {
  uint64_t bytes = 0;
  auto add = [&](const WeightMatrix& w) { bytes += static_cast<uint64_t>(w.view.row_bytes) * static_cast<uint64_t>(w.view.rows); };
  for (const LlamaLayer& l : layers_) {
    for (const WeightMatrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) add(*m);
  }
  add(output_);
  return bytes;
}

}  // namespace ple
