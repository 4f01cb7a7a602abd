// SentencePiece BPE (tokenizer.ggml.model "llama"): pieces scored by tokenizer.ggml.scores,
// adjacent pieces merged highest score first, byte fallback through <0xNN> tokens.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/hash_index.h"
#include "tokenizer/vocab.h"

namespace ple {

class SpmModel {
 public:
  explicit SpmModel(const Vocab& vocab);

  // Appends the ids of `text` as sentencepiece's BPE model encodes its normalized input.
  // `text` is raw; this escapes spaces to U+2581 and prepends one when `space_prefix`.
  void encode(std::string_view text, bool space_prefix, const Vocab& vocab, std::vector<int32_t>& out) const;

  // Output bytes of a token as sentencepiece decodes it: U+2581 -> ' ', <0xNN> -> the byte,
  // control tokens empty, the unknown token " \u2047 ".
  std::string decode_token(int32_t id, const Vocab& vocab) const;

 private:
  int32_t piece_id(std::string_view s) const { return pieces_.find(s); }
  size_t user_defined_prefix(std::string_view s) const;  // longest USER_DEFINED token at s, or 0

  // Merge candidates (sentencepiece's "pieces"): tokens of type Normal, UserDefined and Unused.
  // Keys view the Vocab's strings.
  StringIdMap pieces_;
  StringIdMap user_defined_;
  size_t max_user_defined_ = 0;
  std::array<int32_t, 256> byte_token_{};  // <0xNN> ids, -1 when absent
  bool byte_fallback_ = false;             // any <0xNN> token present
  int32_t unk_ = -1;
};

}  // namespace ple
