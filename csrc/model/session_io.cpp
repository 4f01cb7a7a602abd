// Session files: "PLESESS\0", u32 version, u32 KV type (the GGML type id: 1 = F16, 8 = Q8_0),
// u64 model fingerprint, u64 n_layer, kv_dim, n_vocab, n_tokens; i32 tokens[n_tokens];
// f32 logits[n_vocab]; per layer K[n_tokens] rows then V[n_tokens] rows, each row kv_dim
// elements of the KV type; u64 FNV-1a of all of the above.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/hash.h"
#include "io/atomic_file.h"
#include "io/mapped_file.h"
#include "model/session.h"

namespace ple {
namespace {

constexpr char kMagic[8] = {'P', 'L', 'E', 'S', 'E', 'S', 'S', '\0'};
constexpr uint32_t kVersion = 1;

class HashingWriter {
 public:
  explicit HashingWriter(AtomicFileWriter& out) : out_(out) {}
  void write(const void* data, size_t n) {
    hash_ = fnv1a(data, n, hash_);
    out_.write(data, n);
  }
  template <typename T>
  void put(T value) { write(&value, sizeof value); }
  uint64_t hash() const { return hash_; }

 private:
  AtomicFileWriter& out_;
  uint64_t hash_ = kFnvOffset;
};

class Reader {
 public:
  Reader(const MappedFile& f) : f_(f) {}
  const uint8_t* take(uint64_t n, const char* what) {
    if (n > f_.size() - pos_) {
      throw FormatError("session file '" + f_.path() + "' is truncated while reading " + what);
    }
    const uint8_t* p = f_.data() + pos_;
    pos_ += n;
    return p;
  }
  template <typename T>
  T get(const char* what) {
    T value;
    std::memcpy(&value, take(sizeof value, what), sizeof value);
    return value;
  }
  uint64_t pos() const { return pos_; }

 private:
  const MappedFile& f_;
  uint64_t pos_ = 0;
};

}  // namespace

void Session::save(const std::string& path) const {
  Use use(*this);
  const LlamaHParams& hp = model_->hparams();
  const uint64_t n_tokens = history_.size();
  const uint64_t kv = static_cast<uint64_t>(hp.kv_dim());
  const uint64_t layer_bytes = n_tokens * kv_cache_.row_bytes();
  // A fresh temporary beside `path`, renamed over it once complete: a planted symlink is never
  // followed, concurrent saves each leave one whole file, and a failure leaves `path` untouched.
  AtomicFileWriter out(path);
  HashingWriter w(out);
  w.write(kMagic, sizeof kMagic);
  w.put<uint32_t>(kVersion);
  w.put<uint32_t>(static_cast<uint32_t>(kv_cache_.type()));
  w.put<uint64_t>(model_->fingerprint());
  w.put<uint64_t>(static_cast<uint64_t>(hp.n_layer));
  w.put<uint64_t>(kv);
  w.put<uint64_t>(static_cast<uint64_t>(hp.n_vocab));
  w.put<uint64_t>(n_tokens);
  w.write(history_.data(), n_tokens * sizeof(int32_t));
  w.write(last_logits_.data(), last_logits_.size() * sizeof(float));
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    w.write(kv_cache_.k_rows(l), layer_bytes);
    w.write(kv_cache_.v_rows(l), layer_bytes);
  }
  const uint64_t hash = w.hash();
  out.write(&hash, sizeof hash);
  out.commit();
}

GGMLType session_file_kv_type(const std::string& path) {
  const MappedFile file(path);
  Reader r(file);
  auto bad = [&](const std::string& what) { return FormatError("session file '" + path + "': " + what); };
  if (std::memcmp(r.take(sizeof kMagic, "the magic"), kMagic, sizeof kMagic) != 0) throw bad("not a pyllama_edge session file");
  const uint32_t version = r.get<uint32_t>("the version");
  if (version != kVersion) throw bad("format version " + std::to_string(version) + ", expected " + std::to_string(kVersion));
  const uint32_t kv_type = r.get<uint32_t>("the KV type");
  if (kv_type != static_cast<uint32_t>(GGMLType::F16) && kv_type != static_cast<uint32_t>(GGMLType::Q8_0)) {
    throw bad("unknown KV cache type " + std::to_string(kv_type));
  }
  return static_cast<GGMLType>(kv_type);
}

void Session::load(const std::string& path) {
  Use use(*this);
  const LlamaHParams& hp = model_->hparams();
  const MappedFile file(path);
  Reader r(file);
  auto mismatch = [&](const std::string& what) { return FormatError("session file '" + path + "': " + what); };
  if (std::memcmp(r.take(sizeof kMagic, "the magic"), kMagic, sizeof kMagic) != 0) throw mismatch("not a pyllama_edge session file");
  const uint32_t version = r.get<uint32_t>("the version");
  if (version != kVersion) throw mismatch("format version " + std::to_string(version) + ", expected " + std::to_string(kVersion));
  const uint32_t kv_type = r.get<uint32_t>("the KV type");
  if (kv_type != static_cast<uint32_t>(kv_cache_.type())) {
    const bool known = kv_type == static_cast<uint32_t>(GGMLType::F16) || kv_type == static_cast<uint32_t>(GGMLType::Q8_0);
    throw mismatch(std::string("its KV cache is ") +
                   (known ? kv_type_name(static_cast<GGMLType>(kv_type)) : "of unknown type " + std::to_string(kv_type)) +
                   ", this session's is " + kv_type_name(kv_cache_.type()) +
                   (known ? " (load it with kv_type='" + std::string(kv_type_name(static_cast<GGMLType>(kv_type))) + "')" : ""));
  }
  if (r.get<uint64_t>("the model fingerprint") != model_->fingerprint()) throw mismatch("saved with a different model file");
  const uint64_t n_layer = r.get<uint64_t>("n_layer"), kv = r.get<uint64_t>("kv_dim"), n_vocab = r.get<uint64_t>("n_vocab");
  if (n_layer != static_cast<uint64_t>(hp.n_layer) || kv != static_cast<uint64_t>(hp.kv_dim()) ||
      n_vocab != static_cast<uint64_t>(hp.n_vocab)) {
    throw mismatch("model shapes differ from this model's");
  }
  const uint64_t n_tokens = r.get<uint64_t>("the token count");
  if (n_tokens > static_cast<uint64_t>(n_ctx_)) {
    throw mismatch(std::to_string(n_tokens) + " saved tokens do not fit this session's context of " + std::to_string(n_ctx_));
  }
  const uint64_t layer_bytes = n_tokens * kv_cache_.row_bytes();
  const uint64_t expected = r.pos() + n_tokens * 4 + n_vocab * 4 + n_layer * 2 * layer_bytes + 8;
  if (file.size() != expected) {
    throw mismatch("size " + std::to_string(file.size()) + " bytes, expected " + std::to_string(expected));
  }
  const uint64_t hash = fnv1a(file.data(), file.size() - 8);
  uint64_t stored;
  std::memcpy(&stored, file.data() + file.size() - 8, 8);
  if (hash != stored) throw mismatch("checksum mismatch (the file is corrupt)");

  std::vector<int32_t> tokens(n_tokens);
  std::memcpy(tokens.data(), r.take(n_tokens * 4, "tokens"), n_tokens * 4);
  if (n_tokens > 0) check_prompt(tokens);
  std::memcpy(last_logits_.data(), r.take(n_vocab * 4, "logits"), n_vocab * 4);
  for (uint64_t l = 0; l < n_layer; ++l) {
    std::memcpy(kv_cache_.k_rows(static_cast<int64_t>(l)), r.take(layer_bytes, "K cache"), layer_bytes);
    std::memcpy(kv_cache_.v_rows(static_cast<int64_t>(l)), r.take(layer_bytes, "V cache"), layer_bytes);
  }
  history_ = std::move(tokens);
  batch_start_ = -1;
}

}  // namespace ple
