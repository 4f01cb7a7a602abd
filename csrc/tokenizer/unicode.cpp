#include "tokenizer/unicode.h"

#include <algorithm>
#include <iterator>

namespace ple::unicode {
namespace {

struct ClassRange {
  uint32_t first, last;
  uint8_t cls;
};
struct AsciiFold {
  uint32_t cp;
  char to;
};

#include "tokenizer/unicode_tables.inc"

// Valid range of the second byte of a sequence given its lead byte (Unicode Table 3-7); the
// remaining continuation bytes are always 0x80..0xBF.
bool second_byte_ok(unsigned char lead, unsigned char b) {
  switch (lead) {
    case 0xE0: return b >= 0xA0 && b <= 0xBF;
    case 0xED: return b >= 0x80 && b <= 0x9F;
    case 0xF0: return b >= 0x90 && b <= 0xBF;
    case 0xF4: return b >= 0x80 && b <= 0x8F;
    default: return b >= 0x80 && b <= 0xBF;
  }
}

// Sequence length announced by a lead byte; 0 for bytes that never start a sequence.
size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

}  // namespace

const char* database_version() { return PLE_UNICODE_VERSION; }

CharClass char_class(uint32_t cp) {
  if (cp < 0x80) {  // fast path for ASCII
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) return CharClass::Letter;
    if (cp >= '0' && cp <= '9') return CharClass::Number;
    if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D)) return CharClass::Space;
    return CharClass::Other;
  }
  const auto* end = std::end(kClassRanges);
  const auto* it = std::upper_bound(std::begin(kClassRanges), end, cp,
                                    [](uint32_t c, const ClassRange& r) { return c < r.first; });
  if (it == std::begin(kClassRanges)) return CharClass::Other;
  --it;
  return cp <= it->last ? static_cast<CharClass>(it->cls) : CharClass::Other;
}

uint32_t fold_to_ascii(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + ('a' - 'A') : cp;
  for (const AsciiFold& f : kAsciiFolds) {
    if (f.cp == cp) return static_cast<uint32_t>(f.to);
  }
  return cp;
}

size_t decode_utf8(std::string_view s, size_t pos, uint32_t* cp) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + pos;
  const size_t avail = s.size() - pos;
  const size_t len = sequence_length(p[0]);
  if (len == 1) {
    *cp = p[0];
    return 1;
  }
  *cp = kReplacement;
  if (len == 0) return 1;
  if (avail < 2 || !second_byte_ok(p[0], p[1])) return 1;
  uint32_t value = p[0] & (0xFF >> (len + 1));
  value = (value << 6) | (p[1] & 0x3F);
  for (size_t k = 2; k < len; ++k) {
    if (k >= avail || (p[k] & 0xC0) != 0x80) return k;  // maximal subpart: the valid bytes so far
    value = (value << 6) | (p[k] & 0x3F);
  }
  *cp = value;
  return len;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    uint32_t cp;
    const size_t n = decode_utf8(s, pos, &cp);
    if (cp == kReplacement) {
      append_utf8(out, kReplacement);  // an invalid unit, or a genuine U+FFFD: the same bytes
    } else {
      out.append(s.data() + pos, n);
    }
    pos += n;
  }
  return out;
}

size_t complete_utf8_prefix(std::string_view s) {
  // Only the last (up to 3) bytes can belong to an unfinished sequence.
  const size_t start = s.size() > 3 ? s.size() - 3 : 0;
  for (size_t pos = s.size(); pos > start; --pos) {
    const auto lead = static_cast<unsigned char>(s[pos - 1]);
    if ((lead & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    const size_t len = sequence_length(lead);
    const size_t have = s.size() - (pos - 1);
    if (len <= 1 || have >= len) return s.size();
    // An unfinished sequence: hold it back only if what we have could still become valid.
    uint32_t cp;
    const size_t valid = decode_utf8(s, pos - 1, &cp);
    return valid == have ? pos - 1 : s.size();
  }
  return s.size();
}

}  // namespace ple::unicode
