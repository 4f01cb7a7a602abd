// Session::embed: text embeddings from the final hidden states, with no output head computed.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "model/session.h"

namespace ple {
namespace {

void check_text(const std::vector<int32_t>& tokens, size_t index, int64_t n_vocab, int64_t n_ctx) {
  const std::string which = "text " + std::to_string(index);
  if (tokens.empty()) throw InvalidArgument(which + " is empty (no tokens); every text needs at least one token");
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= n_vocab) {
      throw InvalidArgument(which + ": token id " + std::to_string(tokens[i]) + " at index " + std::to_string(i) +
                            " is out of range for a vocabulary of " + std::to_string(n_vocab));
    }
  }
  if (static_cast<int64_t>(tokens.size()) > n_ctx) {
    throw ContextOverflowError(which + " has " + std::to_string(tokens.size()) + " tokens, more than the context of " +
                               std::to_string(n_ctx) + " tokens; split it or load the model with a larger n_ctx");
  }
}

}  // namespace

void Session::embed(const std::vector<std::vector<int32_t>>& texts, Pooling pooling, bool normalize, float* out) {
  Use use(*this);
  model_->check_unchanged();
  for (size_t i = 0; i < texts.size(); ++i) check_text(texts[i], i, n_vocab(), n_ctx_);
  batch_start_ = -1;
  const int64_t D = n_embd();
  // The mean is summed in double: a long text adds thousands of rows of similar magnitude.
  std::vector<double> sum(static_cast<size_t>(D));
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<int32_t>& tokens = texts[i];
    float* row = out + i * static_cast<size_t>(D);
    // The cache rows a previous text left beyond this one's positions are never read: attention
    // covers positions 0..n_past+n only, each of them written for this text.
    history_.clear();
    std::fill(sum.begin(), sum.end(), 0.0);
    for (size_t start = 0; start < tokens.size(); start += static_cast<size_t>(n_batch_)) {
      const int64_t n = static_cast<int64_t>(std::min(tokens.size() - start, static_cast<size_t>(n_batch_)));
      forward(tokens.data() + start, n, static_cast<int64_t>(start), ForwardOutput::HiddenStates, nullptr);
      const float* hidden = scratch_.xn.data();  // [n][D], after the output norm
      if (pooling == Pooling::Mean) {
        for (int64_t t = 0; t < n; ++t) {
          for (int64_t d = 0; d < D; ++d) sum[static_cast<size_t>(d)] += hidden[t * D + d];
        }
      } else if (pooling == Pooling::Cls && start == 0) {
        std::copy(hidden, hidden + D, row);
      } else if (pooling == Pooling::Last && start + static_cast<size_t>(n) == tokens.size()) {
        std::copy(hidden + (n - 1) * D, hidden + n * D, row);
      }
    }
    if (pooling == Pooling::Mean) {
      for (int64_t d = 0; d < D; ++d) row[d] = static_cast<float>(sum[static_cast<size_t>(d)] / static_cast<double>(tokens.size()));
    }
    if (normalize) {
      double norm2 = 0;
      for (int64_t d = 0; d < D; ++d) norm2 += static_cast<double>(row[d]) * row[d];
      // An all-zero vector has no direction; it stays zero rather than becoming NaN.
      if (norm2 > 0) {
        const double scale = 1.0 / std::sqrt(norm2);
        for (int64_t d = 0; d < D; ++d) row[d] = static_cast<float>(row[d] * scale);
      }
    }
  }
  history_.clear();
}

}  // namespace ple
