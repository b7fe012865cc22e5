#include "stepper.hpp"

namespace bitnet::server {
namespace {

class Sequential final : public Stepper {
 public:
  void step(std::span<StepItem> items) override {
    for (StepItem& item : items) {
      Result<std::vector<float>> logits = item.session->eval(item.tokens);
      if (!logits)
        item.result = logits.error();
      else if (item.logits)
        *item.logits = std::move(*logits);
    }
  }
};

}  // namespace

std::unique_ptr<Stepper> sequential_stepper() {
  return std::make_unique<Sequential>();
}

}  // namespace bitnet::server
