// Pre-tokenizers of the byte-level BPE vocabularies, chosen by tokenizer.ggml.pre. Each splits
// text into the pieces a regex split (Hugging Face `Split`/`ByteLevel(use_regex)`) would produce;
// the regexes are implemented as hand-written matchers over code points (see pretokenizer.cpp).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ple {

enum class PreTokenizerKind {
  Gpt2,    // "gpt2", "default": the GPT-2 regex
  Llama3,  // "llama-bpe" (also "llama3", "llama-v3", as llama.cpp accepts): the Llama 3 regex
  SmolLM,  // "smollm": every \p{N} code point on its own, then the GPT-2 regex on the rest
};

// Maps a tokenizer.ggml.pre value; UnsupportedError naming it when unknown.
PreTokenizerKind pre_tokenizer_from_name(const std::string& name);

struct ByteSpan {
  size_t begin, end;  // byte offsets into the text
};

// Appends the pieces of `text` to `out`, in order; they tile the text exactly. Invalid UTF-8
// bytes are carried along as class Other, so no input byte is lost.
void pre_tokenize(PreTokenizerKind kind, std::string_view text, std::vector<ByteSpan>& out);

}  // namespace ple
