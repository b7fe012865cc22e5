// Cross-validation of backends: one token sequence, teacher-forced (every position sees the
// given tokens, so one divergence does not cascade), on each backend in lockstep, comparing
// every position's logits with the first backend's (or a reference file's) and every op output
// with the first backend's, so a wrong kernel is named by its layer and op.
#pragma once

#include <bitnet/runtime/diagnostics/logits_file.hpp>
#include <bitnet/runtime/model/model.hpp>
#include <bitnet/runtime/model/session.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace bitnet::diagnostics {

struct LogitsAgreement {
  double max_abs_diff = 0;
  double cosine = 1;
  double kl = 0;  // KL(reference || other) of the softmax distributions, in nats
  bool top1 = true;
  int top5 = 5;  // tokens the two top-5 sets share
};

// Both spans hold one position's logits, of the same vocabulary.
LogitsAgreement compare_logits(std::span<const float> reference, std::span<const float> other);

struct OpDivergence {
  int64_t position = 0;
  std::optional<int64_t> layer;
  std::string op;
  double error = 0;  // relative L2 error against the reference backend's output
  double rms_reference = 0, rms_other = 0;
};

struct Comparison {
  std::string backend;
  std::vector<LogitsAgreement> positions;  // one per token
  // The first position whose cosine falls under the tolerance.
  std::optional<int64_t> first_divergent;
  // The first (position, op) whose output's relative error passes op_tolerance; op outputs
  // are compared against another backend only, not against a reference file.
  std::optional<OpDivergence> first_op;
};

struct Runner {
  model::Model* model;
  model::Session* session;  // empty: crossval evaluates from position 0
};

struct CrossvalOptions {
  double cos_tolerance = 0.999;
  double op_tolerance = 1e-3;
  int64_t batch = 512;  // tokens per lockstep step: bounds the op outputs held at once
};

// runners[0] is the reference; one Comparison per other runner.
Result<std::vector<Comparison>> crossval(std::span<const Runner> runners,
                                         std::span<const int32_t> tokens,
                                         const CrossvalOptions& options);

// Each runner against logits another tool wrote for reference.tokens.
Result<std::vector<Comparison>> crossval_reference(std::span<const Runner> runners,
                                                   const LogitsFile& reference,
                                                   const CrossvalOptions& options);

}  // namespace bitnet::diagnostics
