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

}  // namespace bitnet::server
