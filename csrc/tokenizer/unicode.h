// Code point classes for the pre-tokenizer regexes and UTF-8 helpers. The class tables are
// generated (tools/gen_unicode_tables.py); see unicode_tables.inc for the exact definitions.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ple::unicode {

enum class CharClass : uint8_t { Other = 0, Letter = 1, Number = 2, Space = 3 };

const char* database_version();  // Unicode version the tables were generated from

CharClass char_class(uint32_t cp);  // \p{L}, \p{N}, \s as Oniguruma defines them; else Other

// Simple case folding onto ASCII lowercase letters: 'S' and U+017F -> 's'. Code points that do
// not fold to an ASCII letter come back unchanged.
uint32_t fold_to_ascii(uint32_t cp);

constexpr uint32_t kReplacement = 0xFFFD;

// Decodes one code point at s[pos] (pos < s.size()). Returns its byte length; an invalid or
// truncated sequence yields kReplacement and the length of its maximal invalid subpart (>= 1),
// the same units Python's errors="replace" substitutes.
size_t decode_utf8(std::string_view s, size_t pos, uint32_t* cp);

void append_utf8(std::string& out, uint32_t cp);

// Replaces every invalid subsequence by U+FFFD (Python's bytes.decode("utf-8", "replace")).
std::string sanitize_utf8(std::string_view s);

// Length of the longest prefix of s that does not end inside an incomplete but still possibly
// valid UTF-8 sequence: the bytes after it may be completed by more input.
size_t complete_utf8_prefix(std::string_view s);

}  // namespace ple::unicode
