// UTF-8 helpers and pre-tokenizers of the tokenizer, without Python: replacement units match
// Python's errors="replace", pieces tile the input, invalid bytes are never lost.
#include <string>
#include <vector>

#include "check.h"
#include "core/error.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/unicode.h"

namespace {

using ple::unicode::CharClass;

std::vector<std::string> pieces(ple::PreTokenizerKind kind, const std::string& text) {
  std::vector<ple::ByteSpan> spans;
  ple::pre_tokenize(kind, text, spans);
  std::vector<std::string> out;
  size_t expect = 0;
  for (const auto& s : spans) {
    CHECK(s.begin == expect && s.end > s.begin);
    expect = s.end;
    out.push_back(text.substr(s.begin, s.end - s.begin));
  }
  CHECK(expect == text.size());
  return out;
}

}  // namespace

TEST(tokenizer_utf8_replacement_units) {
  const std::string fffd = "\xEF\xBF\xBD";
  // Python: b"...".decode("utf-8", "replace")
  CHECK(ple::unicode::sanitize_utf8("a\x80" "b") == "a" + fffd + "b");
  CHECK(ple::unicode::sanitize_utf8("\xE2\x82") == fffd);                  // truncated: one unit
  CHECK(ple::unicode::sanitize_utf8("\xE2\x82" "A") == fffd + "A");
  CHECK(ple::unicode::sanitize_utf8("\xF0\x9F\x98") == fffd);
  CHECK(ple::unicode::sanitize_utf8("\xE0\x80\x80") == fffd + fffd + fffd);  // overlong: per byte
  CHECK(ple::unicode::sanitize_utf8("\xED\xA0\x80") == fffd + fffd + fffd);  // surrogate
  CHECK(ple::unicode::sanitize_utf8("\xF4\x90\x80\x80") == fffd + fffd + fffd + fffd);
  CHECK(ple::unicode::sanitize_utf8("\xC0\xAF") == fffd + fffd);
  CHECK(ple::unicode::sanitize_utf8("ok \xF0\x9F\x98\x80 " + fffd) == "ok \xF0\x9F\x98\x80 " + fffd);
}

TEST(tokenizer_utf8_complete_prefix) {
  using ple::unicode::complete_utf8_prefix;
  CHECK(complete_utf8_prefix("abc") == 3);
  CHECK(complete_utf8_prefix("ab\xF0\x9F") == 2);        // may still become an emoji
  CHECK(complete_utf8_prefix("ab\xF0\x9F\x98") == 2);
  CHECK(complete_utf8_prefix("ab\xF0\x9F\x98\x80") == 6);
  CHECK(complete_utf8_prefix("ab\xE0\x80") == 4);        // can never become valid: let it out
  CHECK(complete_utf8_prefix("ab\x80") == 3);
  CHECK(complete_utf8_prefix("") == 0);
}

TEST(tokenizer_char_classes) {
  using ple::unicode::char_class;
  CHECK(char_class('a') == CharClass::Letter && char_class(0x65E5) == CharClass::Letter);  // 日
  CHECK(char_class('7') == CharClass::Number && char_class(0xB2) == CharClass::Number);    // ²
  CHECK(char_class(0x3000) == CharClass::Space && char_class(0x85) == CharClass::Space);
  CHECK(char_class(0x1C) == CharClass::Other && char_class(0x200B) == CharClass::Other);
  CHECK(char_class(0x301) == CharClass::Other && char_class(0x1F600) == CharClass::Other);
  CHECK(ple::unicode::fold_to_ascii(0x17F) == 's' && ple::unicode::fold_to_ascii('L') == 'l');
}

TEST(tokenizer_pre_tokenizers) {
  using K = ple::PreTokenizerKind;
  using V = std::vector<std::string>;
  CHECK((pieces(K::Llama3, "I'M here  12345\n\n x") == V{"I", "'M", " here", " ", " ", "123", "45", "\n\n", " x"}));
  CHECK((pieces(K::Gpt2, "I'M here  12345\n\n x") == V{"I", "'", "M", " here", " ", " 12345", "\n\n", " x"}));
  CHECK((pieces(K::SmolLM, "a 12 b") == V{"a", " ", "1", "2", " b"}));
  CHECK((pieces(K::Llama3, "a\x80\xFF" "b") == V{"a", "\x80\xFF", "b"}));  // invalid bytes kept, as U+FFFD
  CHECK(pieces(K::Gpt2, "").empty());
  CHECK_THROWS(ple::pre_tokenizer_from_name("qwen2"), ple::UnsupportedError);
}
