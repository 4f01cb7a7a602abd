#include "tokenizer/special_tokens.h"

#include <algorithm>

namespace ple {

SpecialTokenMatcher::SpecialTokenMatcher(const Vocab& vocab, std::vector<TokenType> always,
                                         std::vector<TokenType> on_request) {
  auto has = [](const std::vector<TokenType>& v, TokenType t) { return std::find(v.begin(), v.end(), t) != v.end(); };
  for (int32_t id = 0; id < vocab.size(); ++id) {
    const std::string& t = vocab.text[id];
    const TokenType type = vocab.type[id];
    if (t.empty() || !(has(always, type) || has(on_request, type))) continue;
    if (!tokens_.emplace(t, Entry{id, has(always, type)}).second) continue;  // repeated string: first id
    lengths_.push_back(t.size());
    first_byte_[static_cast<uint8_t>(t[0])] = true;
  }
  std::sort(lengths_.begin(), lengths_.end(), std::greater<size_t>());
  lengths_.erase(std::unique(lengths_.begin(), lengths_.end()), lengths_.end());
}

std::vector<Fragment> SpecialTokenMatcher::split(std::string_view text, bool parse_special,
                                                const std::vector<ByteRange>& literal) const {
  std::vector<Fragment> out;
  size_t text_begin = 0;
  size_t next_literal = 0;  // first literal range not entirely before pos (pos only grows)
  auto overlaps_literal = [&](size_t begin, size_t end) {
    while (next_literal < literal.size() && literal[next_literal].end <= begin) ++next_literal;
    return next_literal < literal.size() && literal[next_literal].begin < end;
  };
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (!first_byte_[static_cast<uint8_t>(text[pos])]) continue;
    for (size_t len : lengths_) {
      if (len > text.size() - pos) continue;
      const auto it = tokens_.find(text.substr(pos, len));
      if (it == tokens_.end()) continue;
      if (!it->second.always && !(parse_special && !overlaps_literal(pos, pos + len))) continue;
      if (pos > text_begin) out.push_back({-1, text_begin, pos});
      out.push_back({it->second.id, pos, pos + len});
      pos += len - 1;
      text_begin = pos + 1;
      break;
    }
  }
  if (text_begin < text.size()) out.push_back({-1, text_begin, text.size()});
  return out;
}

}  // namespace ple
