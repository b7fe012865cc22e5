// One sequence being run on a model: its KV cache, its scratch memory and how many positions
// are filled. Evaluating tokens appends them; reset() starts a new sequence. A session holds
// buffers of the model's backend, so it must not outlive the model.
#pragma once

#include <bitnet/runtime/model/forward.hpp>
#include <bitnet/runtime/model/kv_cache.hpp>
#include <bitnet/runtime/model/model.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

namespace bitnet::model {

// The tokens one step computes: n_tokens of them from position n_past.
struct StepSpan {
  int64_t n_past = 0;
  int64_t n_tokens = 0;
};
using NodeObserver = std::function<Result<>(const bitnet_tensor& node, StepSpan step)>;

class Session {
 public:
  // n_ctx 0: the model's context length. Prompts are evaluated n_batch tokens per graph.
  static Result<Session> create(Model& model, int64_t n_ctx = 0, int64_t n_batch = 512);

  // Runs `tokens` at positions n_past().. and returns the logits of the last one ([n_vocab]),
  // or with all_logits those of every token ([tokens.size() * n_vocab], token-major).
  Result<std::vector<float>> eval(std::span<const int32_t> tokens, bool all_logits = false);
  // As eval, into `logits` (resized to fit): a caller that decodes token after token into one
  // vector does not pay for a fresh one each step.
  Result<> eval_into(std::span<const int32_t> tokens, std::vector<float>& logits,
                     bool all_logits = false);
  // As eval without all_logits, the logits read where the backend left them when it can (a GPU
  // backend's copy in host memory, a CPU backend's scratch), else downloaded into the session;
  // valid until the session's next eval. A decode loop through it skips a copy of the logits
  // row each token (513 KB for a 128k vocabulary).
  Result<std::span<const float>> eval_view(std::span<const int32_t> tokens);

  int64_t n_past() const { return n_past_; }
  int64_t n_ctx() const { return kv_.n_ctx(); }
  int64_t n_vocab() const;
  void reset() { n_past_ = 0; }
  // Forgets positions from n on (n <= n_past()), so a new turn can reuse a shared prefix.
  void truncate(int64_t n) { n_past_ = std::min(n_past_, std::max<int64_t>(n, 0)); }
  // Bytes of the KV cache and of the largest scratch buffer used so far.
  size_t kv_bytes() const { return kv_.bytes(); }
  size_t scratch_bytes() const { return scratch_.size(); }
  // With an observer, each step runs its nodes one at a time and calls it after each, while the
  // node's output is still in memory the planner will hand to later nodes: slower, for tracing
  // and diagnostics. An error from it ends the step. An empty function turns it off.
  void observe(NodeObserver observer) { observer_ = std::move(observer); }

 private:
  friend class BatchDecoder;  // steps several sessions in one graph (batch_decoder.hpp)
  Session(Model& model, KvCache kv, int64_t n_batch)
      : model_(&model), kv_(std::move(kv)), n_batch_(n_batch) {}
  // An error unless `tokens` is a non-empty run of ids of the vocabulary that fits the context.
  Result<> check_tokens(std::span<const int32_t> tokens) const;
  // tokens in batches of n_batch_; logits laid out as eval_into's into `logits` when not null.
  Result<> run_batches(std::span<const int32_t> tokens, bool all_logits, float* logits);
  // Logits into `out` when not null (all the batch's with all_logits, else its last token's);
  // where they are is kept in logits_at_ either way.
  Result<> run_batch(std::span<const int32_t> tokens, bool all_logits, float* out);

  Model* model_;
  KvCache kv_;
  BackendBuffer scratch_;
  int64_t n_batch_;
  int64_t n_past_ = 0;
  size_t alignment_ = 64;
  NodeObserver observer_;
  std::unique_ptr<StepGraph> decode_step_;  // the one-token graph, kept and moved each token
  size_t decode_need_ = 0;                  // the scratch bytes it was planned for
  int64_t decode_at_ = -1;                  // the position its cache windows are set for
  struct {
    size_t offset = 0, count = 0;  // the last step's logits in scratch_, in floats
  } logits_at_;
  std::vector<float> logits_;  // eval_view's copy where the backend has no view
};

}  // namespace bitnet::model
