// The algorithm of sentencepiece's bpe_model.cc: the text is split into code points (USER_DEFINED
// tokens matched first stay whole and never merge); every adjacent pair whose concatenation is a
// piece is queued by that piece's score; the best pair (highest score, then leftmost) is merged
// and its new neighbours queued, until nothing merges. Resulting symbols that are not pieces fall
// back to <0xNN> byte tokens or, without those, to the unknown token (consecutive ones merged).
#include "tokenizer/spm.h"

#include <algorithm>
#include <queue>
#include <unordered_map>

#include "core/error.h"
#include "tokenizer/unicode.h"

namespace ple {
namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK

struct Symbol {
  size_t begin, len;  // bytes of the normalized text; len 0 once merged into the left neighbour
  int32_t prev, next;
  bool frozen;        // a USER_DEFINED token: never merged
};

struct Candidate {
  float score;
  int32_t left, right;
  size_t len;  // bytes of the merged piece, to detect stale candidates
  bool operator<(const Candidate& o) const { return score != o.score ? score < o.score : left > o.left; }
};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// "<0xNN>" -> NN, or -1.
int byte_of_token(std::string_view t) {
  if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return -1;
  const int hi = hex_digit(t[3]), lo = hex_digit(t[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

}  // namespace

SpmModel::SpmModel(const Vocab& vocab) : unk_(vocab.unk) {
  byte_token_.fill(-1);
  for (int32_t id = 0; id < vocab.size(); ++id) {
    const std::string& t = vocab.text[id];
    switch (vocab.type[id]) {
      case TokenType::Normal: case TokenType::Unused: case TokenType::Undefined:
        pieces_.insert(t, id);
        break;
      case TokenType::UserDefined:
        pieces_.insert(t, id);
        if (!t.empty() && user_defined_.insert(t, id)) max_user_defined_ = std::max(max_user_defined_, t.size());
        break;
      case TokenType::Byte: {
        const int b = byte_of_token(t);
        if (b < 0) throw FormatError("GGUF: token " + std::to_string(id) + " '" + t + "' has type BYTE but is not of the form <0xNN>");
        if (byte_token_[b] < 0) byte_token_[b] = id;
        byte_fallback_ = true;
        break;
      }
      default:
        break;
    }
  }
  if (unk_ < 0) {
    throw FormatError("GGUF: SentencePiece vocabulary without an unknown token (no tokenizer.ggml.unknown_token_id and "
                      "no token of type UNKNOWN)");
  }
}

size_t SpmModel::user_defined_prefix(std::string_view s) const {
  for (size_t len = std::min(max_user_defined_, s.size()); len > 0; --len) {
    if (user_defined_.contains(s.substr(0, len))) return len;
  }
  return 0;
}

void SpmModel::encode(std::string_view raw, bool space_prefix, const Vocab& vocab, std::vector<int32_t>& out) const {
  if (raw.empty()) return;
  std::string text;
  text.reserve(raw.size() + raw.size() / 2 + kSpace.size());
  if (space_prefix) text += kSpace;
  for (char c : raw) {
    if (c == ' ') text += kSpace; else text += c;
  }

  std::vector<Symbol> sym;
  sym.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    size_t len = max_user_defined_ ? user_defined_prefix(std::string_view(text).substr(pos)) : 0;
    const bool frozen = len > 0;
    if (!frozen) {
      uint32_t cp;
      len = unicode::decode_utf8(text, pos, &cp);
    }
    const auto i = static_cast<int32_t>(sym.size());
    sym.push_back({pos, len, i - 1, pos + len < text.size() ? i + 1 : -1, frozen});
    pos += len;
  }

  // Unused pieces may be formed by a merge but are not emitted: remember what made them.
  std::unordered_map<std::string_view, std::pair<std::string_view, std::string_view>> made_of;
  auto view = [&](int32_t i) { return std::string_view(text).substr(sym[i].begin, sym[i].len); };
  std::priority_queue<Candidate> queue;
  auto consider = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0 || sym[left].frozen || sym[right].frozen) return;
    const std::string_view merged = std::string_view(text).substr(sym[left].begin, sym[left].len + sym[right].len);
    const int32_t id = piece_id(merged);
    if (id >= 0) queue.push({vocab.score[id], left, right, merged.size()});
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(sym.size()); ++i) consider(i, i + 1);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& l = sym[c.left];
    Symbol& r = sym[c.right];
    if (l.len == 0 || r.len == 0 || l.len + r.len != c.len) continue;  // stale
    const std::string_view merged = std::string_view(text).substr(l.begin, c.len);
    if (vocab.type[piece_id(merged)] == TokenType::Unused) made_of.emplace(merged, std::make_pair(view(c.left), view(c.right)));
    l.len = c.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = c.left;
    consider(l.prev, c.left);
    consider(c.left, l.next);
  }

  bool prev_unknown = false;
  // Emits one symbol; unused pieces are split back into what made them.
  auto emit = [&](std::string_view s, auto& self) -> void {
    const int32_t id = piece_id(s);
    if (id >= 0 && vocab.type[id] == TokenType::Unused) {
      const auto it = made_of.find(s);
      if (it != made_of.end()) {
        self(it->second.first, self);
        self(it->second.second, self);
        return;
      }
    }
    if (id >= 0) {
      out.push_back(id);
      prev_unknown = false;
      return;
    }
    if (byte_fallback_) {
      for (char c : s) {
        const int32_t b = byte_token_[static_cast<uint8_t>(c)];
        out.push_back(b >= 0 ? b : unk_);
      }
      prev_unknown = false;
      return;
    }
    if (!prev_unknown) out.push_back(unk_);  // a run of unknown symbols is one unknown token
    prev_unknown = true;
  };
  for (int32_t i = 0; i >= 0; i = sym[i].next) emit(view(i), emit);
}

std::string SpmModel::decode_token(int32_t id, const Vocab& vocab) const {
  const std::string& t = vocab.text[id];
  switch (vocab.type[id]) {
    case TokenType::Byte: return std::string(1, static_cast<char>(byte_of_token(t)));
    case TokenType::Control: return {};
    case TokenType::Unknown: return " \xE2\x81\x87 ";  // sentencepiece's surface for <unk>: " ⁇ "
    default: break;
  }
  std::string out;
  out.reserve(t.size());
  for (size_t pos = 0; pos < t.size();) {
    if (t.compare(pos, kSpace.size(), kSpace) == 0) {
      out += ' ';
      pos += kSpace.size();
    } else {
      out += t[pos++];
    }
  }
  return out;
}

}  // namespace ple
