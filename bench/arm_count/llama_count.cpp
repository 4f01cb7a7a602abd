// llama_count MODEL.gguf P D — llama.cpp's half of bench/arm_insn_count.py, over its C API: the
// same work as ple_count (P fixed prompt tokens in one batch, then D greedy decode steps, one
// thread, same prompt ids). Prints the decoded ids.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "llama.h"

namespace {
std::vector<llama_token> prompt_ids(int n, int32_t n_vocab) {
  std::vector<llama_token> ids(static_cast<size_t>(n));
  const int32_t span = n_vocab < 1000 ? n_vocab : 1000;
  for (int i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = 1 + (i * 389) % (span - 1);
  return ids;
}
void quiet_log(ggml_log_level, const char*, void*) {}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s MODEL.gguf P D\n", argv[0]);
    return 2;
  }
  const int n_prompt = std::atoi(argv[2]);
  const int n_decode = std::atoi(argv[3]);
  llama_log_set(quiet_log, nullptr);
  llama_backend_init();
  llama_model_params mp = llama_model_default_params();
  llama_model* model = llama_model_load_from_file(argv[1], mp);
  if (model == nullptr) {
    std::fprintf(stderr, "llama_count: cannot load %s\n", argv[1]);
    return 1;
  }
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<uint32_t>(n_prompt + n_decode + 8);
  cp.n_batch = static_cast<uint32_t>(n_prompt > 0 ? n_prompt : 1);
  cp.n_ubatch = cp.n_batch;
  cp.n_threads = 1;
  cp.n_threads_batch = 1;
  llama_context* ctx = llama_init_from_model(model, cp);
  if (ctx == nullptr) {
    std::fprintf(stderr, "llama_count: cannot create a context\n");
    return 1;
  }
  const int32_t vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
  std::vector<llama_token> ids = prompt_ids(n_prompt, vocab);
  if (llama_decode(ctx, llama_batch_get_one(ids.data(), static_cast<int32_t>(ids.size()))) != 0) {
    std::fprintf(stderr, "llama_count: prefill failed\n");
    return 1;
  }
  std::printf("decoded=");
  for (int step = 0; step < n_decode; ++step) {
    const float* logits = llama_get_logits_ith(ctx, -1);
    llama_token best = 0;
    for (int32_t v = 1; v < vocab; ++v) {
      if (logits[v] > logits[best]) best = v;
    }
    std::printf("%d ", best);
    if (llama_decode(ctx, llama_batch_get_one(&best, 1)) != 0) {
      std::fprintf(stderr, "llama_count: decode failed\n");
      return 1;
    }
  }
  std::printf("\n");
  llama_free(ctx);
  llama_model_free(model);
  llama_backend_free();
  return 0;
}
