// Runs one scheduler step: a few tokens for each of several sessions of one model. The
// backend's entries may be entered by one thread at a time, so only the scheduler thread
// calls a stepper.
#pragma once

#include <bitnet/runtime/error.hpp>
#include <bitnet/runtime/model/session.hpp>

#include <memory>
#include <span>
#include <vector>

namespace bitnet::server {

struct StepItem {
  model::Session* session = nullptr;
  std::span<const int32_t> tokens;       // appended at the session's n_past
  std::vector<float>* logits = nullptr;  // receives the last token's logits; null: not needed
  Result<> result;
};

class Stepper {
 public:
  virtual ~Stepper() = default;
  virtual void step(std::span<StepItem> items) = 0;
};

// One Session::eval per item, one after another.
std::unique_ptr<Stepper> sequential_stepper();
// Items that decode one token (with logits wanted) go through one model::BatchDecoder graph
// when there are two or more of them; prompt chunks and a lone decode through Session::eval.
// An error when the backend cannot run a batched step.
Result<std::unique_ptr<Stepper>> batched_stepper(model::Model& model);

}  // namespace bitnet::server
