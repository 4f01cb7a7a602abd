// Text <-> token ids for the vocabulary of a GGUF file: byte-level BPE ("gpt2") or SentencePiece
// ("llama"). A Tokenizer is immutable after construction; its const methods are thread-safe.
// Per-generation state (incomplete UTF-8 of a token stream) lives in StreamingDetokenizer.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/special_tokens.h"
#include "tokenizer/vocab.h"

namespace ple {

class GGUFFile;
class BpeModel;
class SpmModel;
enum class PreTokenizerKind;

class Tokenizer {
 public:
  // Reads tokenizer.ggml.*; FormatError for missing or inconsistent metadata (naming the key),
  // UnsupportedError for an unknown tokenizer.ggml.model or tokenizer.ggml.pre.
  explicit Tokenizer(const GGUFFile& file);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // `add_bos`: prepend bos_id() if the model uses one (add_bos() is true and bos_id() >= 0), as
  // llama.cpp's add_special and HF's add_special_tokens do: SmolLM2 (add_bos_token = false, its
  // BOS is <|im_start|>) gets none. Callers wanting BOS regardless prepend bos_id() themselves.
  // `parse_special`: control-token
  // strings in the text ("<|eot_id|>") become those tokens; otherwise they are tokenized as text.
  // USER_DEFINED tokens of a BPE vocabulary are always matched (Hugging Face's non-special added
  // tokens). Invalid UTF-8 in `text` is kept byte for byte.
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const;
  // As above, with control tokens matched nowhere inside the `literal` byte ranges (sorted,
  // non-overlapping, inside text; InvalidArgument otherwise): chat messages rendered into a
  // template keep the template's markup special and their own text plain.
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special,
                              const std::vector<ByteRange>& literal) const;
  // Byte ranges of the control tokens encode(text, _, true) would match.
  std::vector<ByteRange> control_token_spans(std::string_view text) const;

  // The bytes of the tokens, concatenated (may be invalid UTF-8 for arbitrary id sequences).
  // SentencePiece: the leading space the encoder added is dropped. Control tokens render as
  // their text only when `render_special`. InvalidArgument on an id out of range.
  std::string decode(const std::vector<int32_t>& ids, bool render_special) const;

  // The bytes this token contributes to output (no leading-space removal).
  std::string token_piece(int32_t id, bool render_special) const;

  int32_t n_vocab() const { return vocab_.size(); }
  int32_t bos_id() const { return vocab_.bos; }  // -1 when absent
  int32_t eos_id() const { return vocab_.eos; }
  int32_t eot_id() const { return vocab_.eot; }
  int32_t eom_id() const { return vocab_.eom; }
  bool add_bos() const { return vocab_.add_bos; }  // tokenizer.ggml.add_bos_token
  bool is_spm() const { return vocab_.kind == VocabKind::Spm; }
  // End of generation: eos, eot, eom and the control tokens that end a turn in chat formats.
  bool is_eog(int32_t id) const;
  bool is_control(int32_t id) const;  // CONTROL (or UNKNOWN) token: no text unless rendered
  const std::string& token_text(int32_t id) const;  // raw vocabulary string

 private:
  void check_id(int32_t id) const;

  Vocab vocab_;
  std::unique_ptr<BpeModel> bpe_;
  std::unique_ptr<SpmModel> spm_;
  std::unique_ptr<SpecialTokenMatcher> specials_;
  PreTokenizerKind pre_;
  std::vector<uint8_t> eog_;           // per id
  std::string pieces_;                 // token_piece(id, false) of every id, concatenated
  std::vector<uint32_t> piece_begin_;  // n_vocab + 1 offsets into pieces_
};

// Turns a stream of token ids into text pieces that are always complete UTF-8: bytes of a code
// point split across tokens (byte-fallback or byte-level tokens) are held back until complete.
// Invalid sequences come out as U+FFFD. Pieces are token_piece()s, so no SentencePiece leading
// space is removed: a generated stream continues the prompt's text.
class StreamingDetokenizer {
 public:
  explicit StreamingDetokenizer(const Tokenizer& t, bool render_special = false);
  std::string push(int32_t id);  // complete UTF-8 text now available (maybe empty)
  std::string flush();           // whatever is left, invalid bytes replaced by U+FFFD

 private:
  const Tokenizer* tokenizer_;
  bool render_special_;
  std::string pending_;
};

}  // namespace ple
