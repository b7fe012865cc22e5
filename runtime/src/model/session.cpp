#include <bitnet/runtime/model/forward.hpp>
#include <bitnet/runtime/model/session.hpp>

#include <algorithm>
#include <memory>
#include <numeric>

namespace bitnet::model {

Result<Session> Session::create(Model& model, int64_t n_ctx, int64_t n_batch) {
  const Hparams& h = model.hparams();
  if (n_ctx <= 0) n_ctx = h.n_ctx;
  if (n_batch <= 0)
    return make_error(BITNET_STATUS_INVALID_ARGUMENT, "the batch size must be at least 1");
  Result<KvCache> kv = KvCache::create(model.backend(), h, n_ctx);
  if (!kv) return kv.error();
  Session s(model, std::move(*kv), n_batch);
  if (Result<BackendProps> p = model.backend().props(); p && p->alignment)
    s.alignment_ = p->alignment;
  return s;
}

int64_t Session::n_vocab() const {
  return model_->weights().find("token_embd.weight")->ne[1];
}

Result<std::vector<float>> Session::eval(std::span<const int32_t> tokens, bool all_logits) {
  std::vector<float> logits;
  if (Result<> r = eval_into(tokens, logits, all_logits); !r) return r.error();
  return logits;
}

Result<> Session::check_tokens(std::span<const int32_t> tokens) const {
  if (tokens.empty())
    return make_error(BITNET_STATUS_INVALID_ARGUMENT, "nothing to evaluate: no tokens");
  const int64_t end = n_past_ + static_cast<int64_t>(tokens.size());
  if (end > n_ctx())
    return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                      "context length exceeded: " + std::to_string(end) + " > " +
                          std::to_string(n_ctx()) + "; raise --ctx or shorten the prompt");
  const int64_t vocab = n_vocab();
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab)
      return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                        "token id " + std::to_string(tokens[i]) + " at index " + std::to_string(i) +
                            " is outside the model's vocabulary of " + std::to_string(vocab));
  return {};
}

Result<std::span<const float>> Session::eval_view(std::span<const int32_t> tokens) {
  if (Result<> r = check_tokens(tokens); !r) return r.error();
  if (Result<> r = run_batches(tokens, false, nullptr); !r) return r.error();
  const auto [offset, count] = logits_at_;
  Result<const void*> in_place = scratch_.view(offset, count * sizeof(float));
  if (!in_place) return in_place.error();
  if (*in_place) return std::span<const float>(static_cast<const float*>(*in_place), count);
  logits_.resize(count);
  if (Result<> r = scratch_.download(offset, logits_.data(), count * sizeof(float)); !r)
    return r.error();
  return std::span<const float>(logits_);
}

Result<> Session::eval_into(std::span<const int32_t> tokens, std::vector<float>& logits,
                            bool all_logits) {
  if (Result<> r = check_tokens(tokens); !r) return r.error();
  // Resized, not refilled: a caller that keeps its vector across decode steps has it at this
  // size already, and zeroing 513 KB of a fresh one each 2B4T token cost host time the GPU
  // waited for.
  logits.resize((all_logits ? tokens.size() : 1) * static_cast<size_t>(n_vocab()));
  return run_batches(tokens, all_logits, logits.data());
}

Result<> Session::run_batches(std::span<const int32_t> tokens, bool all_logits, float* logits) {
  // Only all the logits of a prompt are laid out by row; a decode step looks nothing up.
  const size_t vocab = logits && all_logits ? static_cast<size_t>(n_vocab()) : 0;
  for (size_t at = 0; at < tokens.size(); at += static_cast<size_t>(n_batch_)) {
    const size_t n = std::min(tokens.size() - at, static_cast<size_t>(n_batch_));
    const bool last = at + n == tokens.size();
    float* out = !logits ? nullptr : all_logits ? logits + at * vocab : last ? logits : nullptr;
    if (Result<> r = run_batch(tokens.subspan(at, n), all_logits, out); !r) return r.error();
  }
  return {};
}

Result<> Session::run_batch(std::span<const int32_t> tokens, bool all_logits, float* out) {
  Model& m = *model_;
  const auto n = static_cast<int64_t>(tokens.size());
  // A decode step's graph differs from the last one's only in its cache windows: building and
  // planning ~500 nodes again each token cost about as much host time as a small model's step.
  const bool decode = n == 1 && !all_logits;
  std::unique_ptr<StepGraph> built;
  size_t need = decode_need_;
  if (decode && decode_step_) {
    if (decode_at_ != n_past_) {
      move_decode_step(*decode_step_, kv_, n_past_);
      decode_at_ = n_past_;
    }
  } else {
    built = std::make_unique<StepGraph>();
    build_forward(*built, m.arch(), m.hparams(), m.weights(), kv_,
                  {.n_past = n_past_, .n_tokens = n, .all_logits = all_logits});
    need = built->graph.plan(alignment_);
  }
  StepGraph& step = built ? *built : *decode_step_;
  if (need > scratch_.size()) {
    scratch_ = BackendBuffer();  // free the old one first: peak memory is one scratch
    Result<BackendBuffer> b = m.backend().alloc(need);
    if (!b) return b.error();
    scratch_ = std::move(*b);
  }
  step.graph.bind(scratch_.raw());
  std::vector<int32_t> positions(tokens.size());
  std::iota(positions.begin(), positions.end(), static_cast<int32_t>(n_past_));
  if (Result<> r = upload_inputs(scratch_, step, tokens, positions); !r) return r.error();
  if (observer_) {
    for (const bitnet_tensor* node : step.graph.nodes()) {
      if (Result<> r = m.backend().compute({&node, 1}); !r) return r.error();
      if (Result<> r = m.backend().synchronize(); !r) return r.error();
      if (Result<> r = observer_(*node, {n_past_, n}); !r) return r.error();
    }
  } else {
    if (Result<> r = m.backend().compute(step.graph.nodes(), step.graph.generation()); !r)
      return r.error();
    // The next token's cache windows are set while an asynchronous backend runs this one
    // (backend.h lets the host move views before synchronize): host time taken off each step.
    if (decode) {
      move_decode_step(step, kv_, n_past_ + 1);
      if (!built) decode_at_ = n_past_ + 1;
    }
    if (Result<> r = m.backend().synchronize(); !r) return r.error();
  }
  logits_at_ = {step.logits->offset, static_cast<size_t>(step.logits->ne[0] * step.logits->ne[1])};
  if (out) {
    const size_t bytes = logits_at_.count * sizeof(float);
    if (Result<> r = scratch_.download(logits_at_.offset, out, bytes); !r) return r.error();
  }
  if (decode && built) {
    decode_step_ = std::move(built);
    decode_need_ = need;
    decode_at_ = observer_ ? n_past_ : n_past_ + 1;
  }
  n_past_ += n;
  return {};
}

}  // namespace bitnet::model
