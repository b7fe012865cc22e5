// Where two traces of the same model and tokens part ways: the first (position, layer, op) whose
// outputs differ beyond a tolerance, and how the RMS of each later layer's output compares.
#pragma once

#include <bitnet/runtime/diagnostics/trace_file.hpp>

#include <cstddef>
#include <optional>
#include <vector>

namespace bitnet::diagnostics {

struct RecordPair {
  const TraceRecord* a = nullptr;
  const TraceRecord* b = nullptr;
  // Relative L2 error of the values when both traces hold them, else the largest change of
  // RMS, mean, min and max relative to the larger RMS; 0 for equal hashes, infinite for another
  // shape or another count of NaN/Inf.
  double error = 0;
};

struct TraceDiff {
  size_t compared = 0, only_in_a = 0, only_in_b = 0;
  bool used_values = false;
  std::optional<RecordPair> first;  // the first pair past the tolerance
  // From the first difference on, at its position: each layer's last op in turn (ops outside
  // layers after the last layer form one group), so the table reads as the error spreading.
  std::vector<RecordPair> layers_after;
};

// Records pair up by (position, layer, op) and, when a sequence ran more than once (a reset
// session), by how many times that key came before. "First" orders by that repetition, then
// position, then the order trace A computed them in.
TraceDiff diff_traces(const Trace& a, const Trace& b, double tolerance);

}  // namespace bitnet::diagnostics
