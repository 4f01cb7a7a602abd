#include "tokenizer/tokenizer.h"

#include <limits>

#include "core/error.h"
#include "io/gguf.h"
#include "tokenizer/bpe.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/spm.h"
#include "tokenizer/unicode.h"

namespace ple {
namespace {

// Control tokens that end a turn in the chat formats of Llama-family models, besides the ids
// the file names (eos, eot, eom).
constexpr std::string_view kEndOfGeneration[] = {
    "<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", "<|im_end|>", "<|endoftext|>", "<|end|>", "<end_of_turn>",
};

}  // namespace

Tokenizer::Tokenizer(const GGUFFile& file) : vocab_(load_vocab(file)), pre_(PreTokenizerKind::Gpt2) {
  if (vocab_.kind == VocabKind::Bpe) {
    pre_ = pre_tokenizer_from_name(vocab_.pre);
    // Llama 3 (tokenizer.json "ignore_merges": true): a piece that is a token is not merged.
    bpe_ = std::make_unique<BpeModel>(file, vocab_, /*ignore_merges=*/pre_ == PreTokenizerKind::Llama3);
    specials_ = std::make_unique<SpecialTokenMatcher>(
        vocab_, std::vector<TokenType>{TokenType::UserDefined}, std::vector<TokenType>{TokenType::Control, TokenType::Unknown});
  } else {
    spm_ = std::make_unique<SpmModel>(vocab_);
    // USER_DEFINED pieces are matched inside the SentencePiece model, as sentencepiece does.
    specials_ = std::make_unique<SpecialTokenMatcher>(vocab_, std::vector<TokenType>{},
                                                      std::vector<TokenType>{TokenType::Control, TokenType::Unknown});
  }

  const int32_t n = vocab_.size();
  eog_.assign(static_cast<size_t>(n), 0);
  for (int32_t id : {vocab_.eos, vocab_.eot, vocab_.eom}) {
    if (id >= 0) eog_[id] = 1;
  }
  for (std::string_view s : kEndOfGeneration) {
    const int32_t id = vocab_.find(s);
    if (id >= 0 && vocab_.type[id] == TokenType::Control) eog_[id] = 1;
  }

  piece_begin_.reserve(static_cast<size_t>(n) + 1);
  for (int32_t id = 0; id < n; ++id) {
    piece_begin_.push_back(static_cast<uint32_t>(pieces_.size()));
    const TokenType type = vocab_.type[id];
    if (spm_) {
      pieces_ += spm_->decode_token(id, vocab_);  // as sentencepiece decodes each type
    } else if (type == TokenType::UserDefined) {
      pieces_ += vocab_.text[id];  // added tokens are literal text, not byte-mapped
    } else if (type == TokenType::Normal || type == TokenType::Byte) {
      pieces_ += bpe_->decode_text(vocab_.text[id]);
    }  // BPE control, unknown and unused (placeholder) tokens have no text of their own
    if (pieces_.size() > std::numeric_limits<uint32_t>::max()) {
      throw FormatError("GGUF: tokenizer.ggml.tokens holds more than 4 GiB of text");
    }
  }
  piece_begin_.push_back(static_cast<uint32_t>(pieces_.size()));
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos, bool parse_special) const {
  return encode(text, add_bos, parse_special, {});
}

std::vector<ByteRange> Tokenizer::control_token_spans(std::string_view text) const {
  std::vector<ByteRange> out;
  for (const Fragment& f : specials_->split(text, true)) {
    if (f.token >= 0 && is_control(f.token)) out.push_back({f.begin, f.end});
  }
  return out;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos, bool parse_special,
                                       const std::vector<ByteRange>& literal) const {
  size_t previous_end = 0;
  for (const ByteRange& r : literal) {
    if (r.begin < previous_end || r.end < r.begin || r.end > text.size()) {
      throw InvalidArgument("literal byte ranges must be sorted, non-overlapping and inside the text (" +
                            std::to_string(text.size()) + " bytes); got [" + std::to_string(r.begin) + ", " +
                            std::to_string(r.end) + ")");
    }
    previous_end = r.end;
  }
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 2);
  if (add_bos && vocab_.add_bos && vocab_.bos >= 0) out.push_back(vocab_.bos);
  std::vector<ByteSpan> spans;
  bool after_special = true;  // SentencePiece: the start and every special token get a space prefix
  for (const Fragment& f : specials_->split(text, parse_special, literal)) {
    if (f.token >= 0) {
      out.push_back(f.token);
      after_special = true;
      continue;
    }
    const std::string_view part = text.substr(f.begin, f.end - f.begin);
    if (spm_) {
      spm_->encode(part, vocab_.add_space_prefix && after_special, vocab_, out);
    } else {
      spans.clear();
      pre_tokenize(pre_, part, spans);
      for (const ByteSpan& s : spans) bpe_->encode(part.substr(s.begin, s.end - s.begin), vocab_, out);
    }
    after_special = false;
  }
  return out;
}

void Tokenizer::check_id(int32_t id) const {
  if (id < 0 || id >= vocab_.size()) {
    throw InvalidArgument("token id " + std::to_string(id) + " is out of range (vocabulary has " +
                          std::to_string(vocab_.size()) + " tokens)");
  }
}

bool Tokenizer::is_control(int32_t id) const {
  check_id(id);
  return vocab_.type[id] == TokenType::Control || vocab_.type[id] == TokenType::Unknown;
}

std::string Tokenizer::token_piece(int32_t id, bool render_special) const {
  check_id(id);
  if (render_special && (vocab_.type[id] == TokenType::Control || vocab_.type[id] == TokenType::Unknown)) {
    return vocab_.text[id];
  }
  return pieces_.substr(piece_begin_[id], piece_begin_[id + 1] - piece_begin_[id]);
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool render_special) const {
  for (int32_t id : ids) check_id(id);
  std::string out;
  // SentencePiece drops the space the encoder put before the first word: the leading ' ' of the
  // first piece that produces text, if that piece is a word piece (not a byte or control token).
  bool strip = spm_ && vocab_.add_space_prefix;
  for (int32_t id : ids) {
    std::string piece = token_piece(id, render_special);
    if (piece.empty()) continue;
    const TokenType t = vocab_.type[id];
    if (strip && piece[0] == ' ' && (t == TokenType::Normal || t == TokenType::UserDefined || t == TokenType::Unused)) {
      piece.erase(0, 1);
    }
    strip = false;
    out += piece;
  }
  return out;
}

bool Tokenizer::is_eog(int32_t id) const {
  return id >= 0 && id < vocab_.size() && eog_[id] != 0;
}

const std::string& Tokenizer::token_text(int32_t id) const {
  check_id(id);
  return vocab_.text[id];
}

StreamingDetokenizer::StreamingDetokenizer(const Tokenizer& t, bool render_special)
    : tokenizer_(&t), render_special_(render_special) {}

std::string StreamingDetokenizer::push(int32_t id) {
  pending_ += tokenizer_->token_piece(id, render_special_);
  const size_t ready = unicode::complete_utf8_prefix(pending_);
  if (ready == 0) return {};
  std::string out = unicode::sanitize_utf8(std::string_view(pending_).substr(0, ready));
  pending_.erase(0, ready);
  return out;
}

std::string StreamingDetokenizer::flush() {
  std::string out = unicode::sanitize_utf8(pending_);
  pending_.clear();
  return out;
}

}  // namespace ple
