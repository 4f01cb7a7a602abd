#include "tokenizer/vocab.h"

#include <limits>

#include "core/error.h"
#include "io/gguf.h"

namespace ple {
namespace {

constexpr const char* kTokens = "tokenizer.ggml.tokens";
constexpr const char* kTypes = "tokenizer.ggml.token_type";
constexpr const char* kScores = "tokenizer.ggml.scores";

bool is_integer_type(GGUFValueType t) {
  switch (t) {
    case GGUFValueType::U8: case GGUFValueType::I8: case GGUFValueType::U16: case GGUFValueType::I16:
    case GGUFValueType::U32: case GGUFValueType::I32: case GGUFValueType::U64: case GGUFValueType::I64:
      return true;
    default:
      return false;
  }
}

// An array with one element per token; nullptr when the key is absent.
const GGUFValue* per_token_array(const GGUFFile& file, const char* key, size_t n_tokens) {
  const GGUFValue* v = file.find(key);
  if (v == nullptr) return nullptr;
  if (v->type != GGUFValueType::ARRAY) {
    throw FormatError(std::string("GGUF: metadata '") + key + "' should be an array but is " + gguf_value_type_name(v->type));
  }
  if (v->count != n_tokens) {
    throw FormatError(std::string("GGUF: metadata '") + key + "' has " + std::to_string(v->count) + " entries but '" +
                      kTokens + "' has " + std::to_string(n_tokens));
  }
  return v;
}

// A special-token id: -1 when absent, FormatError when out of range.
int32_t token_id(const GGUFFile& file, const std::string& key, int32_t n_vocab) {
  if (!file.has(key)) return -1;
  const uint64_t id = file.get_uint(key);
  if (id >= static_cast<uint64_t>(n_vocab)) {
    throw FormatError("GGUF: metadata '" + key + "' = " + std::to_string(id) + " is not a token id (vocabulary has " +
                      std::to_string(n_vocab) + " tokens)");
  }
  return static_cast<int32_t>(id);
}

}  // namespace

Vocab load_vocab(const GGUFFile& file) {
  Vocab v;
  const std::string model = file.get_string("tokenizer.ggml.model");
  if (model == "gpt2") {
    v.kind = VocabKind::Bpe;
  } else if (model == "llama") {
    v.kind = VocabKind::Spm;
  } else {
    throw UnsupportedError("tokenizer.ggml.model '" + model + "' is not supported (supported: gpt2, llama)");
  }
  v.pre = file.get_string("tokenizer.ggml.pre", "default");

  const GGUFValue& tokens = file.get_array(kTokens, GGUFValueType::STRING);
  if (tokens.count == 0) throw FormatError(std::string("GGUF: metadata '") + kTokens + "' is empty");
  if (tokens.count > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
    throw FormatError(std::string("GGUF: metadata '") + kTokens + "' has " + std::to_string(tokens.count) +
                      " entries, more than token ids can address");
  }
  const size_t n = static_cast<size_t>(tokens.count);
  v.text.reserve(n);
  for (std::string_view s : tokens.strings) v.text.emplace_back(s);

  v.type.assign(n, TokenType::Normal);
  if (const GGUFValue* types = per_token_array(file, kTypes, n)) {
    if (!is_integer_type(types->element_type)) {
      throw FormatError(std::string("GGUF: metadata '") + kTypes + "' should hold integers but holds " +
                        gguf_value_type_name(types->element_type));
    }
    for (size_t i = 0; i < n; ++i) {
      const int64_t t = types->element_int(i);
      if (t < 0 || t > static_cast<int64_t>(TokenType::Byte)) {
        throw FormatError(std::string("GGUF: metadata '") + kTypes + "' entry " + std::to_string(i) + " is " +
                          std::to_string(t) + ", not a token type (0 to 6)");
      }
      v.type[i] = t == 0 ? TokenType::Normal : static_cast<TokenType>(t);
    }
  }
  v.score.assign(n, 0.0f);
  if (const GGUFValue* scores = per_token_array(file, kScores, n)) {
    if (scores->element_type != GGUFValueType::F32 && scores->element_type != GGUFValueType::F64) {
      throw FormatError(std::string("GGUF: metadata '") + kScores + "' should hold floats but holds " +
                        gguf_value_type_name(scores->element_type));
    }
    for (size_t i = 0; i < n; ++i) v.score[i] = static_cast<float>(scores->element_float(i));
  }

  v.id_of = StringIdMap(n);
  for (size_t i = 0; i < n; ++i) v.id_of.insert(v.text[i], static_cast<int32_t>(i));  // keeps the first

  const int32_t n_vocab = v.size();
  v.bos = token_id(file, "tokenizer.ggml.bos_token_id", n_vocab);
  v.eos = token_id(file, "tokenizer.ggml.eos_token_id", n_vocab);
  v.eot = token_id(file, "tokenizer.ggml.eot_token_id", n_vocab);
  v.eom = token_id(file, "tokenizer.ggml.eom_token_id", n_vocab);
  v.unk = token_id(file, "tokenizer.ggml.unknown_token_id", n_vocab);
  v.pad = token_id(file, "tokenizer.ggml.padding_token_id", n_vocab);
  token_id(file, "tokenizer.ggml.seperator_token_id", n_vocab);  // validated only (sic: GGUF's spelling)
  token_id(file, "tokenizer.ggml.cls_token_id", n_vocab);
  token_id(file, "tokenizer.ggml.mask_token_id", n_vocab);

  // Defaults as Llama-family files expect them: SentencePiece vocabularies start with BOS and a
  // space; Llama 3's byte-level BPE starts with BOS; other BPE vocabularies add nothing.
  const bool spm = v.kind == VocabKind::Spm;
  v.add_bos = file.get_bool("tokenizer.ggml.add_bos_token", spm || v.pre == "llama-bpe");
  v.add_space_prefix = file.get_bool("tokenizer.ggml.add_space_prefix", spm);
  if (spm && v.unk < 0) {
    for (int32_t i = 0; i < n_vocab; ++i) {
      if (v.type[i] == TokenType::Unknown) { v.unk = i; break; }
    }
  }
  return v;
}

}  // namespace ple
