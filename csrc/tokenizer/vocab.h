// The immutable vocabulary of a GGUF file: token strings, types and scores in id order, the
// special-token ids and flags from tokenizer.ggml.*. Everything is validated at load.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/hash_index.h"

namespace ple {

class GGUFFile;

// tokenizer.ggml.token_type values (llama.cpp's llama_token_type).
enum class TokenType : int32_t {
  Undefined = 0, Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6,
};

enum class VocabKind { Bpe, Spm };  // tokenizer.ggml.model "gpt2" / "llama"

struct Vocab {
  VocabKind kind = VocabKind::Bpe;
  std::string pre;                    // tokenizer.ggml.pre ("default" when absent)
  std::vector<std::string> text;      // raw vocabulary strings, by id
  std::vector<TokenType> type;        // Normal when tokenizer.ggml.token_type is absent
  std::vector<float> score;           // 0 when tokenizer.ggml.scores is absent
  // Text -> id for every token (the lowest id when a string repeats). Keys view `text`, so a Vocab
  // is movable but not copyable.
  StringIdMap id_of;

  int32_t bos = -1, eos = -1, eot = -1, eom = -1, unk = -1, pad = -1;
  bool add_bos = false;
  bool add_space_prefix = false;

  Vocab() = default;
  Vocab(Vocab&&) = default;
  Vocab& operator=(Vocab&&) = default;
  Vocab(const Vocab&) = delete;
  Vocab& operator=(const Vocab&) = delete;

  int32_t size() const { return static_cast<int32_t>(text.size()); }
  int32_t find(std::string_view s) const { return id_of.find(s); }  // -1 when absent
};

// Reads and validates tokenizer.ggml.{model, pre, tokens, token_type, scores, *_token_id,
// add_bos_token, add_space_prefix}. FormatError naming the key for anything inconsistent,
// UnsupportedError for an unknown tokenizer.ggml.model. Merges are read by the BPE model.
Vocab load_vocab(const GGUFFile& file);

}  // namespace ple
