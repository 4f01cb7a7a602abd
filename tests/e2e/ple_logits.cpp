// ple_logits MODEL.gguf TEXT OUT.bin — the end-to-end check's native half (no Python, so it runs
// under qemu-user): tokenizes TEXT with the model's own tokenizer (BOS added), computes
//   1. teacher-forced logits of every position in one batched prefill (Session::evaluate_all), and
//   2. the logits of one decode step after it (token ids[1] appended: one-token GEMV path),
// and writes them for tools/e2e_logits.py to compare across builds and CPUs. Prints the kernel
// table in use. OUT.bin (little-endian): int32 n_tokens, int32 n_vocab, int32 ids[n_tokens],
// float32 prefill[n_tokens][n_vocab], float32 decode[n_vocab].
#include <cstdint>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <memory>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "kernels/kernel_table.h"
#include "model/model.h"
#include "model/session.h"
#include "tokenizer/tokenizer.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s MODEL.gguf TEXT OUT.bin\n", argv[0]);
    return 2;
  }
  try {
    const auto file = ple::GGUFFile::open(argv[1]);
    const auto model = std::make_shared<const ple::Model>(file);
    const std::vector<int32_t> ids = model->tokenizer().encode(argv[2], /*add_bos=*/true, /*parse_special=*/false);
    ple::SessionConfig config;
    config.n_ctx = 256;
    config.n_threads = 1;
    ple::Session session(model, config);
    const size_t vocab = static_cast<size_t>(session.n_vocab());
    std::vector<float> prefill(ids.size() * vocab);
    session.evaluate_all(ids, prefill.data());

    // One decode step on the prefilled cache (a fixed token: ids[1]), the GEMV path.
    session.append(ids.size() > 1 ? ids[1] : ids[0]);
    const std::vector<float> decode_last(session.logits(), session.logits() + vocab);

    std::FILE* out = std::fopen(argv[3], "wb");
    if (out == nullptr) throw std::runtime_error(std::string("cannot write ") + argv[3]);
    const int32_t header[2] = {static_cast<int32_t>(ids.size()), static_cast<int32_t>(vocab)};
    bool ok = std::fwrite(header, sizeof header, 1, out) == 1;
    ok = ok && std::fwrite(ids.data(), sizeof(int32_t), ids.size(), out) == ids.size();
    ok = ok && std::fwrite(prefill.data(), sizeof(float), prefill.size(), out) == prefill.size();
    ok = ok && std::fwrite(decode_last.data(), sizeof(float), vocab, out) == vocab;
    ok = (std::fclose(out) == 0) && ok;
    if (!ok) throw std::runtime_error(std::string("short write to ") + argv[3]);
    const ple::kernels::KernelTable& k = model->weights().kernels();
    const char* tile = k.for_type(model->weights().output().view.type).prefill_tile.name;
    std::printf("isa=%s tokens=%zu vocab=%zu output_dot=%s output_tile=%s\n", k.isa, ids.size(), vocab,
                k.for_type(model->weights().output().view.type).dot_name, tile != nullptr ? tile : "none");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ple_logits: %s\n", e.what());
    return 1;
  }
  return 0;
}
