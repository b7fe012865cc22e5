#include <bitnet/runtime/diagnostics/node_trace.hpp>
#include <bitnet/sdk/half.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace bitnet::diagnostics {
namespace {

bool in(const Ranges& ranges, int64_t v) {
  return ranges.empty() ||
         std::ranges::any_of(ranges, [v](const auto& r) { return v >= r.first && v <= r.second; });
}

std::optional<int64_t> number(std::string_view s) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

// The dimension that runs over the step's tokens: the outermost one above 0 that is not 1, when
// it counts n_tokens. Nodes that keep only the last token (the head without all_logits) have
// none and belong to the last position.
int token_dim(const bitnet_tensor& t, int64_t n_tokens) {
  for (int d = BITNET_MAX_DIMS - 1; d >= 1; --d)
    if (t.ne[d] != 1) return t.ne[d] == n_tokens && n_tokens > 1 ? d : -1;
  return -1;
}

// The node's values in logical order, read through its strides.
Result<std::vector<float>> read_values(const Backend& backend, const bitnet_tensor& t) {
  const size_t elt = t.type == BITNET_TYPE_F32 ? 4 : 2;
  size_t extent = elt;
  int64_t count = 1;
  for (int d = 0; d < BITNET_MAX_DIMS; ++d) {
    extent += static_cast<size_t>(t.ne[d] - 1) * t.nb[d];
    count *= t.ne[d];
  }
  std::vector<std::byte> bytes(extent);
  if (Result<> r = backend.download(t.buffer, t.offset, bytes.data(), extent); !r) return r.error();
  std::vector<float> out;
  out.reserve(static_cast<size_t>(count));
  for (int64_t i3 = 0; i3 < t.ne[3]; ++i3)
    for (int64_t i2 = 0; i2 < t.ne[2]; ++i2)
      for (int64_t i1 = 0; i1 < t.ne[1]; ++i1)
        for (int64_t i0 = 0; i0 < t.ne[0]; ++i0) {
          const std::byte* p =
              bytes.data() + i0 * t.nb[0] + i1 * t.nb[1] + i2 * t.nb[2] + i3 * t.nb[3];
          if (t.type == BITNET_TYPE_F32) {
            float v;
            std::memcpy(&v, p, 4);
            out.push_back(v);
          } else {
            uint16_t h;
            std::memcpy(&h, p, 2);
            out.push_back(sdk::fp16_to_f32(h));
          }
        }
  return out;
}

}  // namespace

Result<Ranges> parse_ranges(std::string_view text) {
  Ranges out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    const size_t dash = item.find('-');
    const std::optional<int64_t> lo = number(item.substr(0, dash));
    const std::optional<int64_t> hi =
        dash == std::string_view::npos ? lo : number(item.substr(dash + 1));
    if (!lo || !hi || *hi < *lo) {
      std::string what = "'";
      what.append(item).append("' is not a number or a range like 2-5 (lists are comma-separated)");
      return make_error(BITNET_STATUS_INVALID_ARGUMENT, std::move(what));
    }
    out.emplace_back(*lo, *hi);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return out;
}

bool SliceFilter::keeps_layer(std::optional<int64_t> layer) const {
  return !layer || in(layers, *layer);
}

bool SliceFilter::keeps_position(int64_t position) const {
  return in(positions, position);
}

std::pair<std::optional<int64_t>, std::string_view> split_node_name(std::string_view name) {
  if (name.starts_with("blk.")) {
    const size_t dot = name.find('.', 4);
    if (dot != std::string_view::npos)
      if (std::optional<int64_t> layer = number(name.substr(4, dot - 4)))
        return {layer, name.substr(dot + 1)};
  }
  return {std::nullopt, name};
}

model::NodeObserver slice_observer(const Backend& backend, SliceFilter filter, SliceSink sink) {
  return [&backend, filter = std::move(filter), sink = std::move(sink)](
             const bitnet_tensor& node, model::StepSpan step) -> Result<> {
    if (node.type != BITNET_TYPE_F32 && node.type != BITNET_TYPE_F16) return {};
    const auto [layer, op] = split_node_name(node.name ? node.name : "");
    if (!filter.keeps_layer(layer)) return {};
    const int dim = token_dim(node, step.n_tokens);
    const int64_t first = dim < 0 ? step.n_past + step.n_tokens - 1 : step.n_past;
    const int64_t slices = dim < 0 ? 1 : step.n_tokens;
    bool any = false;
    for (int64_t i = 0; i < slices; ++i)
      any |= filter.keeps_position(first + i);
    if (!any) return {};
    Result<std::vector<float>> values = read_values(backend, node);
    if (!values) return values.error();
    NodeSlice s;
    s.layer = layer;
    s.op = op;
    s.dtype = node.type;
    for (int d = 0; d < (dim < 0 ? BITNET_MAX_DIMS : dim); ++d)
      s.shape.push_back(node.ne[d]);
    while (s.shape.size() > 1 && s.shape.back() == 1)
      s.shape.pop_back();
    const size_t per_slice = values->size() / static_cast<size_t>(slices);
    for (int64_t i = 0; i < slices; ++i) {
      if (!filter.keeps_position(first + i)) continue;
      s.position = first + i;
      s.values =
          std::span<const float>(*values).subspan(static_cast<size_t>(i) * per_slice, per_slice);
      if (Result<> r = sink(s); !r) return r;
    }
    return {};
  };
}

}  // namespace bitnet::diagnostics
