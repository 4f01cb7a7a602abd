#include "tokenizer/bpe.h"

#include <queue>

#include "core/error.h"
#include "io/gguf.h"
#include "tokenizer/unicode.h"

namespace ple {
namespace {

// GPT-2's reversible byte -> code point mapping: printable Latin-1 bytes stand for themselves,
// the other 68 bytes (controls, space, 0x7F-0xA0, 0xAD) take U+0100.. in byte order.
std::array<uint32_t, 256> byte_code_points() {
  std::array<uint32_t, 256> cp{};
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    cp[b] = printable ? b : next++;
  }
  return cp;
}

struct Symbol {
  int32_t id;    // -1 once merged into its left neighbour
  int32_t prev;  // index of the previous live symbol, -1 at the start
  int32_t next;  // index of the next live symbol, -1 at the end
};

// A candidate merge of symbols [pos] and [pos].next; lower rank first, then leftmost (as
// Hugging Face's word merge does).
struct Candidate {
  int32_t rank, pos, left, right, result;
  bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
};

}  // namespace

BpeModel::BpeModel(const GGUFFile& file, const Vocab& vocab, bool ignore_merges) : ignore_merges_(ignore_merges) {
  const std::array<uint32_t, 256> cps = byte_code_points();
  code_point_byte_.fill(-1);
  for (int b = 0; b < 256; ++b) {
    unicode::append_utf8(byte_text_[b], cps[b]);
    code_point_byte_[cps[b]] = static_cast<int16_t>(b);
    byte_token_[b] = vocab.find(byte_text_[b]);  // -1: this vocabulary cannot spell the byte
  }

  const std::string key = "tokenizer.ggml.merges";
  const GGUFValue& merges = file.get_array(key, GGUFValueType::STRING);
  merges_ = PairMap(merges.strings.size());
  std::string joined;
  for (size_t rank = 0; rank < merges.strings.size(); ++rank) {
    const std::string_view m = merges.strings[rank];
    auto bad = [&](const std::string& why) {
      return FormatError("GGUF: " + key + " entry " + std::to_string(rank) + " '" + std::string(m) + "' " + why);
    };
    const size_t space = m.find(' ');
    if (space == std::string_view::npos || space == 0 || space + 1 == m.size()) throw bad("is not of the form 'left right'");
    const std::string_view left = m.substr(0, space), right = m.substr(space + 1);
    joined.assign(left).append(right);
    const int32_t l = vocab.find(left), r = vocab.find(right), result = vocab.find(joined);
    if (l < 0) throw bad("names '" + std::string(left) + "', which is not in the vocabulary");
    if (r < 0) throw bad("names '" + std::string(right) + "', which is not in the vocabulary");
    if (result < 0) throw bad("makes '" + joined + "', which is not in the vocabulary");
    merges_.insert(l, r, {static_cast<int32_t>(rank), result});  // a repeated pair keeps its first rank
  }
}

void BpeModel::encode(std::string_view piece, const Vocab& vocab, std::vector<int32_t>& out) const {
  if (piece.empty()) return;
  if (piece.size() == 1) {
    if (const int32_t id = byte_token_[static_cast<uint8_t>(piece[0])]; id >= 0) out.push_back(id);
    return;
  }
  if (ignore_merges_) {
    std::string mapped;
    mapped.reserve(piece.size() * 2);
    for (char c : piece) mapped += byte_text_[static_cast<uint8_t>(c)];
    const int32_t id = vocab.find(mapped);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }

  // Bytes without a token are dropped before merging, as Hugging Face does without an unknown
  // token (SmolLM2 has no token for some control bytes and for bytes that never occur in UTF-8).
  std::vector<Symbol> sym;
  sym.reserve(piece.size());
  for (char c : piece) {
    const int32_t id = byte_token_[static_cast<uint8_t>(c)];
    if (id < 0) continue;
    const auto i = static_cast<int32_t>(sym.size());
    sym.push_back({id, i - 1, i + 1});
  }
  if (sym.empty()) return;
  sym.back().next = -1;
  const auto n = static_cast<int32_t>(sym.size());

  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto consider = [&](int32_t pos) {
    if (pos < 0 || sym[pos].next < 0) return;
    const int32_t left = sym[pos].id, right = sym[sym[pos].next].id;
    if (const PairMap::Value* m = merges_.find(left, right)) queue.push({m->rank, pos, left, right, m->result});
  };
  for (int32_t i = 0; i + 1 < n; ++i) consider(i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& s = sym[c.pos];
    // Stale when either side has changed since the candidate was queued: a merge always makes a
    // longer string, so equal ids mean the same symbols.
    if (s.id != c.left || s.next < 0 || sym[s.next].id != c.right) continue;
    Symbol& right = sym[s.next];
    s.id = c.result;
    right.id = -1;
    s.next = right.next;
    if (s.next >= 0) sym[s.next].prev = c.pos;
    consider(s.prev);
    consider(c.pos);
  }
  for (int32_t i = 0; i >= 0; i = sym[i].next) out.push_back(sym[i].id);
}

std::string BpeModel::decode_text(std::string_view token_text) const {
  std::string out;
  out.reserve(token_text.size());
  for (size_t pos = 0; pos < token_text.size();) {
    uint32_t cp;
    const size_t len = unicode::decode_utf8(token_text, pos, &cp);
    if (cp < code_point_byte_.size() && code_point_byte_[cp] >= 0) {
      out += static_cast<char>(code_point_byte_[cp]);
    } else {
      out.append(token_text.data() + pos, len);
    }
    pos += len;
  }
  return out;
}

}  // namespace ple
