// Decode steps of several sessions of one model in one graph: the matmuls take one token of
// every session at once, so a step reads the weights once however many sequences advance,
// while each session's RoPE position, cache writes and attention stay its own (forward.hpp,
// StepShape::batch).
#pragma once

#include <bitnet/runtime/model/session.hpp>

#include <span>
#include <vector>

namespace bitnet::model {

class BatchDecoder {
 public:
  // Asks the backend about every node of a two-sequence step first, so a backend that cannot
  // run it is refused here (the caller then steps sessions one by one).
  static Result<BatchDecoder> create(Model& model);

  // Appends tokens[i] to sessions[i] (all of `model`, each at most once) and returns the logits
  // of each, [sessions.size()][n_vocab].
  Result<std::vector<std::vector<float>>> decode(std::span<Session* const> sessions,
                                                 std::span<const int32_t> tokens);

 private:
  explicit BatchDecoder(Model& model) : model_(&model) {}
  Result<> grow(BackendBuffer& buffer, size_t bytes);

  Model* model_;
  BackendBuffer scratch_;
  BackendBuffer gather_;
  size_t alignment_ = 64;
};

}  // namespace bitnet::model
