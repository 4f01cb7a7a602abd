#include "model/speculative.h"

#include <algorithm>
#include <string>

#include "core/error.h"
#include "model/model.h"
#include "model/session.h"

namespace ple {

void PromptLookupDrafter::draft(const std::vector<int32_t>& context, int max_tokens, Draft* out) {
  out->tokens.clear();
  out->probs.clear();
  const int64_t size = static_cast<int64_t>(context.size());
  for (int64_t n = std::min<int64_t>(kMaxNgram, size - 1); n >= kMinNgram; --n) {
    const int32_t* tail = context.data() + size - n;
    // Latest match first: the text just written is the likeliest to be copied on.
    for (int64_t start = size - n - 1; start >= 0; --start) {
      if (!std::equal(tail, tail + n, context.data() + start)) continue;
      const int64_t from = start + n;
      const int64_t count = std::min<int64_t>(max_tokens, size - from);
      out->tokens.assign(context.begin() + from, context.begin() + from + count);
      return;
    }
  }
}

DraftModelDrafter::DraftModelDrafter(std::shared_ptr<const Model> draft_model, const Session& target,
                                     const SamplerParams& sampling)
    : sampler_([&] {
        SamplerParams p = sampling;
        // q only has to be the distribution the draft is drawn from; penalties would need the
        // draft's token window rolled back with every rejection, for little gain.
        p.repeat_penalty = 1.0f;
        p.frequency_penalty = 0.0f;
        p.presence_penalty = 0.0f;
        p.seed = sampling.seed ^ 0x9e3779b97f4a7c15ull;
        return p;
      }()),
      greedy_(sampling.temperature <= 0.0f) {
  check_same_vocabulary(*target.owner(), *draft_model);
  SessionConfig config;
  // A draft trained on a shorter context drafts while the text fits it (draft() stops after).
  config.n_ctx = std::min(target.n_ctx(), draft_model->weights().hparams().n_ctx_train);
  config.n_threads = target.n_threads();
  config.kv_type = target.kv_type();
  config.n_batch = 512;
  session_ = std::make_unique<Session>(std::move(draft_model), config);
}

DraftModelDrafter::~DraftModelDrafter() = default;

void DraftModelDrafter::draft(const std::vector<int32_t>& context, int max_tokens, Draft* out) {
  out->tokens.clear();
  out->probs.clear();
  if (static_cast<int64_t>(context.size()) >= session_->n_ctx()) return;
  session_->set_tokens(context);  // evaluates only what changed since the last draft
  const int64_t room = session_->n_ctx() - static_cast<int64_t>(context.size());
  const int n = static_cast<int>(std::min<int64_t>(max_tokens, room + 1));
  const int64_t n_vocab = session_->n_vocab();
  for (int i = 0; i < n; ++i) {
    if (greedy_) {
      out->tokens.push_back(sampler_.sample(session_->logits(), n_vocab));
    } else {
      out->probs.emplace_back();
      sampler_.distribution(session_->logits(), n_vocab, &out->probs.back());
      out->tokens.push_back(sampler_.draw(out->probs.back()));
    }
    if (i + 1 < n) session_->append(out->tokens.back());
  }
}

void check_same_vocabulary(const Model& target, const Model& draft) {
  const Tokenizer& a = target.tokenizer();
  const Tokenizer& b = draft.tokenizer();
  const std::string prefix = "the draft model's vocabulary differs from the target's: ";
  if (a.n_vocab() != b.n_vocab() || target.weights().hparams().n_vocab != draft.weights().hparams().n_vocab) {
    throw InvalidArgument(prefix + "sizes " + std::to_string(b.n_vocab()) + " and " + std::to_string(a.n_vocab()));
  }
  for (int32_t id = 0; id < a.n_vocab(); ++id) {
    if (a.token_text(id) != b.token_text(id) || a.is_control(id) != b.is_control(id)) {
      throw InvalidArgument(prefix + "token " + std::to_string(id) + " is '" + b.token_text(id) + "' in the draft, '" +
                            a.token_text(id) + "' in the target");
    }
  }
  const struct {
    const char* name;
    int32_t target, draft;
  } specials[] = {{"BOS", a.bos_id(), b.bos_id()}, {"EOS", a.eos_id(), b.eos_id()},
                  {"EOT", a.eot_id(), b.eot_id()}, {"EOM", a.eom_id(), b.eom_id()}};
  for (const auto& s : specials) {
    if (s.target != s.draft) {
      throw InvalidArgument(prefix + s.name + " is token " + std::to_string(s.draft) + " in the draft, " +
                            std::to_string(s.target) + " in the target");
    }
  }
}

int DraftLength::next() {
  if (pause_ > 0) {
    --pause_;
    return 0;
  }
  return length_;
}

void DraftLength::record(int drafted, int accepted) {
  if (drafted == 0) return;
  if (accepted == drafted) {
    length_ = std::min(max_, 2 * length_);
    next_pause_ = 1;
  } else if (accepted == 0) {
    length_ = 1;
    pause_ = next_pause_;
    next_pause_ = std::min(kMaxPause, 2 * next_pause_);
  } else {
    length_ = std::min(max_, accepted + 1);
    next_pause_ = 1;
  }
}

}  // namespace ple
