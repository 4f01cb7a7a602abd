// A loaded model as the application sees it: the mapped GGUF file, the architecture's weights
// (LlamaModel), the tokenizer, the chat metadata, and the thread pools every Session of it shares.
// Immutable after load except for the pools it creates on demand; shared by any number of
// Sessions across threads (std::shared_ptr keeps it alive while one exists).
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/thread_pool.h"
#include "model/generator.h"
#include "io/gguf.h"
#include "model/llama_model.h"
#include "tokenizer/tokenizer.h"

namespace ple {

// What the chat layer needs from the file (the template itself runs in the Python sandbox).
struct ChatMetadata {
  std::string name;           // general.name ("" when absent)
  std::string template_text;  // tokenizer.chat_template ("" when absent)
  std::string bos_text;       // the BOS/EOS tokens' texts, as templates name them ("" when none)
  std::string eos_text;
};

class Model {
 public:
  // Throws FormatError / UnsupportedError for files it cannot run (LlamaModel, Tokenizer).
  Model(std::shared_ptr<const GGUFFile> file, const ModelOptions& options = {});

  const GGUFFile& file() const { return *file_; }
  const LlamaModel& weights() const { return *weights_; }
  const std::shared_ptr<const LlamaModel>& weights_ptr() const { return weights_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const std::shared_ptr<Tokenizer>& tokenizer_ptr() const { return tokenizer_; }
  const ChatMetadata& chat() const { return chat_; }

  // The ids a prompt stands for: ids as they are; text encoded with BOS when the tokenizer adds
  // one (never doubled when a chat template wrote it itself).
  std::vector<int32_t> tokenize(const Prompt& prompt) const;

  // The pool of `n_threads` workers (0: default_thread_count()) that every session asking for
  // that count shares: N sessions never mean N x cores threads. Their parallel sections take
  // turns on it (ThreadPool::run serializes callers).
  std::shared_ptr<ThreadPool> thread_pool(int n_threads) const;

 private:
  std::shared_ptr<const GGUFFile> file_;
  std::shared_ptr<const LlamaModel> weights_;
  std::shared_ptr<Tokenizer> tokenizer_;  // immutable; non-const for the bindings' holder type
  ChatMetadata chat_;
  mutable std::mutex pools_mutex_;
  mutable std::map<int, std::weak_ptr<ThreadPool>> pools_;
};

}  // namespace ple
