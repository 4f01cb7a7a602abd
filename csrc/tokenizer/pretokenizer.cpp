// The regexes, and how each matcher mirrors its backtracking semantics. All matchers work on a
// decoded code point array [0, n) and return the length of the match at position i (>= 1 when
// the text at i is non-empty). The alternatives are tried in regex order; the first that matches
// wins, exactly as in a backtracking engine (the leftmost match always starts at i because every
// code point is covered by some alternative).
//
// GPT-2:    's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// Llama 3:  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}
//           | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
#include "tokenizer/pretokenizer.h"

#include "core/error.h"
#include "tokenizer/unicode.h"

namespace ple {
namespace {

using unicode::CharClass;

struct Text {
  std::vector<uint32_t> cp;      // code points
  std::vector<CharClass> cls;    // their classes
  std::vector<size_t> offset;    // byte offset of each code point; offset[n] = text size
  size_t n() const { return cp.size(); }
  bool letter(size_t i) const { return cls[i] == CharClass::Letter; }
  bool number(size_t i) const { return cls[i] == CharClass::Number; }
  bool space(size_t i) const { return cls[i] == CharClass::Space; }
  bool other(size_t i) const { return cls[i] == CharClass::Other; }  // [^\s\p{L}\p{N}]
  bool newline(size_t i) const { return cp[i] == '\r' || cp[i] == '\n'; }
};

Text decode(std::string_view s) {
  Text t;
  t.cp.reserve(s.size());
  t.cls.reserve(s.size());
  t.offset.reserve(s.size() + 1);
  size_t pos = 0;
  while (pos < s.size()) {
    uint32_t c;
    const size_t len = unicode::decode_utf8(s, pos, &c);
    t.cp.push_back(c);
    t.cls.push_back(unicode::char_class(c));  // an invalid byte decodes to U+FFFD: Other
    t.offset.push_back(pos);
    pos += len;
  }
  t.offset.push_back(s.size());
  return t;
}

// 's|'t|'re|'ve|'m|'ll|'d, optionally case-insensitive (simple case folding).
size_t match_contraction(const Text& t, size_t i, size_t end, bool fold) {
  if (t.cp[i] != '\'' || i + 1 >= end) return 0;
  auto at = [&](size_t k) { return fold ? unicode::fold_to_ascii(t.cp[k]) : t.cp[k]; };
  const uint32_t a = at(i + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (i + 2 >= end) return 0;
  const uint32_t b = at(i + 2);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// Run of code points satisfying pred starting at i, up to `end` or `limit` code points.
template <typename Pred>
size_t run(size_t i, size_t end, Pred pred, size_t limit = SIZE_MAX) {
  size_t k = i;
  while (k < end && k - i < limit && pred(k)) ++k;
  return k - i;
}

// \s+(?!\S) then \s+ : the whitespace run, minus its last code point when a non-space follows
// and the run is longer than one (that code point then prefixes the next piece).
size_t match_trailing_space(const Text& t, size_t i, size_t end) {
  const size_t w = run(i, end, [&](size_t k) { return t.space(k); });
  if (w == 0) return 0;
  if (i + w == end || w == 1) return w;
  return w - 1;
}

size_t match_gpt2(const Text& t, size_t i, size_t end) {
  if (size_t m = match_contraction(t, i, end, /*fold=*/false)) return m;
  const size_t sp = (t.cp[i] == ' ' && i + 1 < end) ? 1 : 0;  // the optional leading ' '
  for (size_t lead : {sp, size_t{0}}) {  // greedy ' ?': with the space first, then without
    const size_t j = i + lead;
    if (j >= end) continue;
    if (t.letter(j)) return lead + run(j, end, [&](size_t k) { return t.letter(k); });
    if (t.number(j)) return lead + run(j, end, [&](size_t k) { return t.number(k); });
    if (t.other(j)) return lead + run(j, end, [&](size_t k) { return t.other(k); });
  }
  if (size_t m = match_trailing_space(t, i, end)) return m;
  return 1;  // unreachable: every class is covered above
}

size_t match_llama3(const Text& t, size_t i, size_t end) {
  if (size_t m = match_contraction(t, i, end, /*fold=*/true)) return m;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (t.letter(i)) return run(i, end, [&](size_t k) { return t.letter(k); });
  if (!t.newline(i) && !t.number(i) && i + 1 < end && t.letter(i + 1)) {
    return 1 + run(i + 1, end, [&](size_t k) { return t.letter(k); });
  }
  // \p{N}{1,3}
  if (t.number(i)) return run(i, end, [&](size_t k) { return t.number(k); }, 3);
  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
  const size_t j = (t.cp[i] == ' ' && i + 1 < end && t.other(i + 1)) ? i + 1 : i;
  if (t.other(j)) {
    size_t k = j + run(j, end, [&](size_t q) { return t.other(q); });
    k += run(k, end, [&](size_t q) { return t.newline(q); });
    return k - i;
  }
  // \s*[\r\n]+ : the whitespace run up to and including its last newline.
  const size_t w = run(i, end, [&](size_t k) { return t.space(k); });
  for (size_t k = i + w; k > i; --k) {
    if (t.newline(k - 1)) return k - i;
  }
  if (size_t m = match_trailing_space(t, i, end)) return m;
  return 1;
}

template <typename Matcher>
void split(const Text& t, size_t begin, size_t end, Matcher match, std::vector<ByteSpan>& out) {
  for (size_t i = begin; i < end;) {
    const size_t len = match(t, i, end);
    out.push_back({t.offset[i], t.offset[i + len]});
    i += len;
  }
}

}  // namespace

PreTokenizerKind pre_tokenizer_from_name(const std::string& name) {
  if (name == "gpt2" || name == "default") return PreTokenizerKind::Gpt2;
  if (name == "llama-bpe" || name == "llama3" || name == "llama-v3") return PreTokenizerKind::Llama3;
  if (name == "smollm") return PreTokenizerKind::SmolLM;
  throw UnsupportedError("tokenizer.ggml.pre '" + name +
                         "' is not supported (supported: llama-bpe, smollm, gpt2, default)");
}

void pre_tokenize(PreTokenizerKind kind, std::string_view text, std::vector<ByteSpan>& out) {
  const Text t = decode(text);
  switch (kind) {
    case PreTokenizerKind::Gpt2: split(t, 0, t.n(), match_gpt2, out); break;
    case PreTokenizerKind::Llama3: split(t, 0, t.n(), match_llama3, out); break;
    case PreTokenizerKind::SmolLM: {
      // Digits(individual_digits=True): each \p{N} is its own piece; the GPT-2 regex then runs
      // on each stretch between them as if it were the whole text (so (?!\S) sees its end).
      size_t i = 0;
      while (i < t.n()) {
        if (t.number(i)) {
          out.push_back({t.offset[i], t.offset[i + 1]});
          ++i;
          continue;
        }
        const size_t stretch = run(i, t.n(), [&](size_t k) { return !t.number(k); });
        split(t, i, i + stretch, match_gpt2, out);
        i += stretch;
      }
      break;
    }
  }
}

}  // namespace ple
