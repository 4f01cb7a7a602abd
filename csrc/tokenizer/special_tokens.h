// Finds special-token strings in text before pre-tokenization, the way Hugging Face extracts
// added tokens: scanning left to right, the leftmost occurrence wins and, among tokens starting
// there, the longest.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/vocab.h"

namespace ple {

struct Fragment {
  int32_t token;         // a matched special token, or -1 for text
  size_t begin, end;     // byte range of the text
};

struct ByteRange {
  size_t begin, end;
};

class SpecialTokenMatcher {
 public:
  // `always`: token types matched even when the caller does not parse special tokens (Hugging
  // Face's non-special added tokens); `on_request`: only when it does (control tokens).
  SpecialTokenMatcher(const Vocab& vocab, std::vector<TokenType> always, std::vector<TokenType> on_request);

  // Splits text into text fragments and special tokens, in order. `literal`: sorted,
  // non-overlapping byte ranges of text (untrusted chat content) where on-request tokens are not
  // matched, as if parse_special were false there; a token overlapping one is not matched either.
  std::vector<Fragment> split(std::string_view text, bool parse_special,
                              const std::vector<ByteRange>& literal = {}) const;

 private:
  struct Entry {
    int32_t id;
    bool always;
  };
  std::unordered_map<std::string_view, Entry> tokens_;  // keys view the Vocab's strings
  std::vector<size_t> lengths_;                          // distinct token lengths, longest first
  bool first_byte_[256] = {};                            // some token starts with this byte
};

}  // namespace ple
