#include "stepper.hpp"

#include <bitnet/runtime/model/batch_decoder.hpp>

namespace bitnet::server {
namespace {

void eval(StepItem& item) {
  std::vector<float> unwanted;
  if (Result<> r = item.session->eval_into(item.tokens, item.logits ? *item.logits : unwanted); !r)
    item.result = r.error();
}

class Sequential final : public Stepper {
 public:
  void step(std::span<StepItem> items) override {
    for (StepItem& item : items)
      eval(item);
  }
};

class Batched final : public Stepper {
 public:
  explicit Batched(model::BatchDecoder decoder) : decoder_(std::move(decoder)) {}
  void step(std::span<StepItem> items) override {
    std::vector<StepItem*> decodes;
    for (StepItem& item : items)
      if (item.tokens.size() == 1 && item.logits)
        decodes.push_back(&item);
      else
        eval(item);
    if (decodes.size() == 1) eval(*decodes.front());
    if (decodes.size() < 2) return;
    std::vector<model::Session*> sessions;
    std::vector<int32_t> tokens;
    for (StepItem* item : decodes) {
      sessions.push_back(item->session);
      tokens.push_back(item->tokens.front());
    }
    Result<std::vector<std::vector<float>>> logits = decoder_.decode(sessions, tokens);
    for (size_t i = 0; i < decodes.size(); ++i)
      if (!logits)
        decodes[i]->result = logits.error();
      else
        *decodes[i]->logits = std::move((*logits)[i]);
  }

 private:
  model::BatchDecoder decoder_;
};

}  // namespace

std::unique_ptr<Stepper> sequential_stepper() {
  return std::make_unique<Sequential>();
}

Result<std::unique_ptr<Stepper>> batched_stepper(model::Model& model) {
  Result<model::BatchDecoder> decoder = model::BatchDecoder::create(model);
  if (!decoder) return decoder.error();
  return std::unique_ptr<Stepper>(std::make_unique<Batched>(std::move(*decoder)));
}

}  // namespace bitnet::server
