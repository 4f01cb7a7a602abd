#include "model/model.h"

#include "core/cpu_count.h"

namespace ple {
namespace {

// Optional descriptive strings: a value of another type counts as absent (a file that names itself
// oddly still runs).
std::string optional_string(const GGUFFile& file, const std::string& key) {
  const GGUFValue* v = file.find(key);
  return v != nullptr && v->type == GGUFValueType::STRING ? std::string(v->str) : std::string();
}

ChatMetadata read_chat_metadata(const GGUFFile& file, const Tokenizer& tokenizer) {
  ChatMetadata chat;
  chat.name = optional_string(file, "general.name");
  chat.template_text = optional_string(file, "tokenizer.chat_template");
  if (tokenizer.bos_id() >= 0) chat.bos_text = tokenizer.token_text(tokenizer.bos_id());
  if (tokenizer.eos_id() >= 0) chat.eos_text = tokenizer.token_text(tokenizer.eos_id());
  return chat;
}

}  // namespace

Model::Model(std::shared_ptr<const GGUFFile> file, const ModelOptions& options)
    : file_(std::move(file)),
      weights_(std::make_shared<const LlamaModel>(file_, options)),
      tokenizer_(std::make_shared<Tokenizer>(*file_)),
      chat_(read_chat_metadata(*file_, *tokenizer_)) {}

std::vector<int32_t> Model::tokenize(const Prompt& prompt) const {
  if (!prompt.is_text) return prompt.ids;
  const Tokenizer& tok = *tokenizer_;
  std::vector<int32_t> ids = tok.encode(prompt.text, tok.add_bos(), prompt.parse_special, prompt.literal);
  if (ids.size() >= 2 && tok.add_bos() && ids[0] == tok.bos_id() && ids[1] == tok.bos_id()) ids.erase(ids.begin());
  return ids;
}

std::shared_ptr<ThreadPool> Model::thread_pool(int n_threads) const {
  if (n_threads <= 0) n_threads = default_thread_count();
  std::lock_guard<std::mutex> lock(pools_mutex_);
  // Weak: a pool lives while a session uses it, so a model kept around idle holds no threads.
  std::shared_ptr<ThreadPool> pool = pools_[n_threads].lock();
  if (!pool) {
    pool = std::make_shared<ThreadPool>(n_threads);
    pools_[n_threads] = pool;
  }
  return pool;
}

}  // namespace ple
