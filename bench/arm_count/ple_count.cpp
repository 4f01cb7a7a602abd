// ple_count MODEL.gguf P D — the engine's half of bench/arm_insn_count.py: loads the model, prefills
// P fixed prompt tokens (Session::set_tokens, one batched forward pass), then runs D greedy decode
// steps (argmax, Session::append), on one thread. The instruction count of a run is read by the
// qemu plugin; the script takes differences of runs so loading drops out. Prints the kernel path
// and the decoded ids (compare with llama_count's to see both did the same work).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <vector>

#include "io/gguf.h"
#include "kernels/kernel_table.h"
#include "model/model.h"
#include "model/session.h"

namespace {
// The prompt both drivers use: ids spread over the first 1000 of the vocabulary, no BOS logic.
std::vector<int32_t> prompt_ids(int n, int64_t n_vocab) {
  std::vector<int32_t> ids(static_cast<size_t>(n));
  const int64_t span = n_vocab < 1000 ? n_vocab : 1000;
  for (int i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = static_cast<int32_t>(1 + (i * 389) % (span - 1));
  return ids;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s MODEL.gguf P D\n", argv[0]);
    return 2;
  }
  try {
    const int n_prompt = std::atoi(argv[2]);
    const int n_decode = std::atoi(argv[3]);
    const auto file = ple::GGUFFile::open(argv[1]);
    const auto model = std::make_shared<const ple::Model>(file);
    ple::SessionConfig config;
    config.n_ctx = n_prompt + n_decode + 8;
    config.n_threads = 1;
    ple::Session session(model, config);
    const int64_t vocab = session.n_vocab();
    session.set_tokens(prompt_ids(n_prompt, vocab));
    std::printf("isa=%s decoded=", model->weights().kernels().isa);
    for (int step = 0; step < n_decode; ++step) {
      const float* logits = session.logits();
      int32_t best = 0;
      for (int64_t v = 1; v < vocab; ++v) {
        if (logits[v] > logits[best]) best = static_cast<int32_t>(v);
      }
      std::printf("%d ", best);
      session.append(best);
    }
    std::printf("\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ple_count: %s\n", e.what());
    return 1;
  }
  return 0;
}
