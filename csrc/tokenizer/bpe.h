// Byte-level BPE (tokenizer.ggml.model "gpt2"): GPT-2's byte-to-unicode mapping, merges applied
// by rank. Encodes one pre-tokenized piece at a time; the pre-tokenizer lives in pretokenizer.h.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/hash_index.h"
#include "tokenizer/vocab.h"

namespace ple {

class GGUFFile;

class BpeModel {
 public:
  // Reads tokenizer.ggml.merges ("left right" strings, rank = index). A merge naming a string
  // that is not in the vocabulary, or whose concatenation is not, is a FormatError (Hugging Face
  // refuses such files too). `ignore_merges`: a piece that is itself a token is emitted as-is.
  BpeModel(const GGUFFile& file, const Vocab& vocab, bool ignore_merges);

  // Appends the ids of one pre-token (raw UTF-8 bytes, not byte-mapped) to out.
  void encode(std::string_view piece, const Vocab& vocab, std::vector<int32_t>& out) const;

  // The bytes a vocabulary string stands for: each code point of the GPT-2 byte alphabet back to
  // its byte; code points outside that alphabet are kept as their UTF-8.
  std::string decode_text(std::string_view token_text) const;

 private:
  PairMap merges_;  // (left id, right id) -> (rank, merged id)
  std::array<std::string, 256> byte_text_;   // byte -> its mapped code point, UTF-8
  std::array<int32_t, 256> byte_token_{};    // byte -> id of that one-character token, or -1
  // Inverse of the byte mapping: the mapped code points are all below U+0144. -1: not mapped.
  std::array<int16_t, 0x144> code_point_byte_{};
  bool ignore_merges_;
};

}  // namespace ple
