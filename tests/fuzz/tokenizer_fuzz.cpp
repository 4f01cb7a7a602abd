// libFuzzer harness for the tokenizers over two fixed vocabularies (corpus/vocab/): a
// SmolLM2-like byte-level BPE and a SentencePiece BPE with byte fallback.
// Input: byte 0 picks the vocabulary and flags, the rest is the text. Checked:
//  - encode never fails and returns ids in range; decode and the streaming detokenizer accept them;
//  - the streaming detokenizer always emits valid UTF-8;
//  - BPE: for valid UTF-8 text, decode(encode(text)) == text (the vocabulary has all 256 bytes);
//  - arbitrary id sequences (the text read as little-endian u16s) decode without error.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/utf8.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"

#ifndef PLE_FUZZ_CORPUS_DIR
#error "PLE_FUZZ_CORPUS_DIR must name tests/fuzz/corpus"
#endif

namespace {

struct Vocabs {
  std::shared_ptr<ple::GGUFFile> bpe_file, spm_file;
  std::unique_ptr<ple::Tokenizer> bpe, spm;
};

const Vocabs& vocabs() {
  static const Vocabs v = [] {
    Vocabs out;
    out.bpe_file = ple::GGUFFile::open(PLE_FUZZ_CORPUS_DIR "/vocab/bpe_smollm.gguf");
    out.spm_file = ple::GGUFFile::open(PLE_FUZZ_CORPUS_DIR "/vocab/spm.gguf");
    out.bpe = std::make_unique<ple::Tokenizer>(*out.bpe_file);
    out.spm = std::make_unique<ple::Tokenizer>(*out.spm_file);
    return out;
  }();
  return v;
}


[[noreturn]] void fail(const char* what, const std::string& text) {
  std::fprintf(stderr, "tokenizer_fuzz: %s for %zu bytes of input\n", what, text.size());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Vocabs& v = vocabs();
  const uint8_t mode = data[0];
  const ple::Tokenizer& tok = (mode & 1) ? *v.spm : *v.bpe;
  const bool add_bos = (mode & 2) != 0, parse_special = (mode & 4) != 0, render_special = (mode & 8) != 0;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);

  const std::vector<int32_t> ids = tok.encode(text, add_bos, parse_special);
  for (int32_t id : ids) {
    if (id < 0 || id >= tok.n_vocab()) fail("encode returned an id out of range", text);
  }
  const std::string decoded = tok.decode(ids, render_special);
  ple::StreamingDetokenizer stream(tok, render_special);
  std::string streamed;
  for (int32_t id : ids) streamed += stream.push(id);
  streamed += stream.flush();
  if (!ple::valid_utf8(streamed)) fail("the streaming detokenizer emitted invalid UTF-8", text);

  if (!(mode & 1) && !add_bos && !parse_special && ple::valid_utf8(text)) {
    if (decoded != text) fail("BPE decode(encode(text)) != text", text);
    if (streamed != text) fail("BPE streamed decode(encode(text)) != text", text);
  }

  std::vector<int32_t> arbitrary;
  for (size_t i = 1; i + 1 < size; i += 2) {
    arbitrary.push_back(static_cast<int32_t>((data[i] | (data[i + 1] << 8)) % tok.n_vocab()));
  }
  (void)tok.decode(arbitrary, render_special);
  try {
    arbitrary.push_back(tok.n_vocab());
    (void)tok.decode(arbitrary, render_special);
    fail("decode accepted an id out of range", text);
  } catch (const ple::InvalidArgument&) {
  }
  return 0;
}
