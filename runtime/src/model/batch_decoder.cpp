#include <bitnet/runtime/model/batch_decoder.hpp>
#include <bitnet/runtime/model/forward.hpp>
#include <bitnet/sdk/ops.hpp>

namespace bitnet::model {

Result<BatchDecoder> BatchDecoder::create(Model& model) {
  BatchDecoder d(model);
  if (Result<BackendProps> p = model.backend().props(); p && p->alignment)
    d.alignment_ = p->alignment;
  const Hparams& h = model.hparams();
  Result<KvCache> a = KvCache::create(model.backend(), h, 2);
  if (!a) return a.error();
  Result<KvCache> b = KvCache::create(model.backend(), h, 2);
  if (!b) return b.error();
  if (Result<> r = d.grow(d.gather_, static_cast<size_t>(h.n_head * h.head_dim) * 2 * 4); !r)
    return r.error();
  const BatchSeq seqs[] = {{&*a, 0}, {&*b, 1}};
  StepGraph step;
  build_forward(step, model.arch(), h, model.weights(), *a,
                {.batch = seqs, .gather = d.gather_.raw()});
  for (const bitnet_tensor* node : step.graph.nodes())
    if (!model.backend().supports(*node))
      return make_error(BITNET_STATUS_UNSUPPORTED,
                        "backend '" + model.backend_name() +
                            "' cannot run a batched step: " + std::string(sdk::op_name(node->op)) +
                            " " + (node->name ? node->name : ""));
  return d;
}

Result<> BatchDecoder::grow(BackendBuffer& buffer, size_t bytes) {
  if (bytes <= buffer.size()) return {};
  buffer = BackendBuffer();  // free the old one first: peak memory is one buffer
  Result<BackendBuffer> b = model_->backend().alloc(bytes);
  if (!b) return b.error();
  buffer = std::move(*b);
  return {};
}

Result<std::vector<std::vector<float>>> BatchDecoder::decode(std::span<Session* const> sessions,
                                                             std::span<const int32_t> tokens) {
  if (sessions.empty() || sessions.size() != tokens.size())
    return make_error(BITNET_STATUS_INVALID_ARGUMENT, "a batched step needs one token per session");
  std::vector<BatchSeq> seqs;
  std::vector<int32_t> positions;
  for (size_t i = 0; i < sessions.size(); ++i) {
    const Session& s = *sessions[i];
    if (s.model_ != model_ || s.n_past_ + 1 > s.n_ctx())
      return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                        "context length exceeded: " + std::to_string(s.n_past_ + 1) + " > " +
                            std::to_string(s.n_ctx()));
    if (tokens[i] < 0 || tokens[i] >= s.n_vocab())
      return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                        "token id " + std::to_string(tokens[i]) + " is outside the vocabulary");
    seqs.push_back({&s.kv_, s.n_past_});
    positions.push_back(static_cast<int32_t>(s.n_past_));
  }
  const Hparams& h = model_->hparams();
  if (Result<> r = grow(gather_, static_cast<size_t>(h.n_head * h.head_dim) * seqs.size() * 4); !r)
    return r.error();
  StepGraph step;
  build_forward(step, model_->arch(), h, model_->weights(), *seqs[0].kv,
                {.batch = seqs, .gather = gather_.raw()});
  if (Result<> r = grow(scratch_, step.graph.plan(alignment_)); !r) return r.error();
  step.graph.bind(scratch_.raw());
  if (Result<> r = upload_inputs(scratch_, step, tokens, positions); !r) return r.error();
  if (Result<> r = model_->backend().compute(step.graph.nodes(), step.graph.generation()); !r)
    return r.error();
  if (Result<> r = model_->backend().synchronize(); !r) return r.error();
  const auto n_vocab = static_cast<size_t>(step.logits->ne[0]);
  std::vector<float> all(n_vocab * sessions.size());
  if (Result<> r = scratch_.download(step.logits->offset, all.data(), all.size() * sizeof(float));
      !r)
    return r.error();
  std::vector<std::vector<float>> out(sessions.size());
  for (size_t i = 0; i < sessions.size(); ++i) {
    out[i].assign(all.begin() + static_cast<std::ptrdiff_t>(i * n_vocab),
                  all.begin() + static_cast<std::ptrdiff_t>((i + 1) * n_vocab));
    ++sessions[i]->n_past_;
  }
  return out;
}

}  // namespace bitnet::model
