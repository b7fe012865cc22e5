// Op outputs as a session computes them, cut into one slice per token position: what traces,
// `bitnet verify` and `bitnet crossval` look at. Nodes are named "blk.N.<op>" inside layer N and
// plainly outside layers ("embed", "output_norm", "logits").
#pragma once

#include <bitnet/runtime/backend/backend.hpp>
#include <bitnet/runtime/model/session.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace bitnet::diagnostics {

struct NodeSlice {
  int64_t position = 0;
  std::optional<int64_t> layer;  // none outside layers
  std::string_view op;           // the node's name without "blk.N."
  std::vector<int64_t> shape;    // of one position's slice
  int32_t dtype = 0;             // of the node's output; values are converted to float32
  std::span<const float> values;
};
using SliceSink = std::function<Result<>(const NodeSlice&)>;

// Inclusive ranges; "0-3,7" is {{0, 3}, {7, 7}}.
using Ranges = std::vector<std::pair<int64_t, int64_t>>;
Result<Ranges> parse_ranges(std::string_view text);

// Which layers and positions to look at; an empty list means all. Nodes outside layers are
// always kept: they anchor a trace's start and end.
struct SliceFilter {
  Ranges layers, positions;
  bool keeps_layer(std::optional<int64_t> layer) const;
  bool keeps_position(int64_t position) const;
};

// "blk.12.attn_q" -> {12, "attn_q"}; "logits" -> {none, "logits"}.
std::pair<std::optional<int64_t>, std::string_view> split_node_name(std::string_view name);

// An observer for Session::observe that downloads each kept node's output from `backend` (the
// session's model's) and hands `sink` one slice per kept position, in graph order.
model::NodeObserver slice_observer(const Backend& backend, SliceFilter filter, SliceSink sink);

}  // namespace bitnet::diagnostics
