#include <bitnet/runtime/diagnostics/trace_diff.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

namespace bitnet::diagnostics {
namespace {

using Key = std::tuple<int64_t, int64_t, std::string, size_t>;  // position, layer, op, repeat

// Layer -1 stands for "outside layers" in keys only.
std::vector<Key> keys_of(const Trace& t) {
  std::map<std::tuple<int64_t, int64_t, std::string>, size_t> seen;
  std::vector<Key> out;
  out.reserve(t.records.size());
  for (const TraceRecord& r : t.records) {
    const auto k = std::make_tuple(r.position, r.layer.value_or(-1), r.op);
    out.emplace_back(r.position, r.layer.value_or(-1), r.op, seen[k]++);
  }
  return out;
}

double stats_error(const TensorStats& a, const TensorStats& b) {
  const double scale = std::max({a.rms, b.rms, std::numeric_limits<double>::min()});
  return std::max({std::fabs(a.rms - b.rms), std::fabs(a.mean - b.mean), std::fabs(a.min - b.min),
                   std::fabs(a.max - b.max)}) /
         scale;
}

double pair_error(const Trace& ta, const TraceRecord& a, const Trace& tb, const TraceRecord& b,
                  bool values) {
  if (a.shape != b.shape || a.stats.nonfinite != b.stats.nonfinite)
    return std::numeric_limits<double>::infinity();
  if (a.stats.hash == b.stats.hash) return 0;
  return values ? relative_error(ta.values_of(a), tb.values_of(b)) : stats_error(a.stats, b.stats);
}

}  // namespace

TraceDiff diff_traces(const Trace& a, const Trace& b, double tolerance) {
  TraceDiff d;
  d.used_values = a.values.has_value() && b.values.has_value();
  const std::vector<Key> ka = keys_of(a), kb = keys_of(b);
  std::map<Key, size_t> in_b;
  for (size_t i = 0; i < kb.size(); ++i)
    in_b.emplace(kb[i], i);

  std::vector<std::pair<size_t, size_t>> pairs;  // record indices in a and b
  for (size_t i = 0; i < ka.size(); ++i) {
    auto it = in_b.find(ka[i]);
    if (it == in_b.end()) {
      ++d.only_in_a;
      continue;
    }
    pairs.emplace_back(i, it->second);
  }
  d.compared = pairs.size();
  d.only_in_b = kb.size() - pairs.size();

  std::optional<std::pair<size_t, size_t>> first;
  double first_error = 0;
  auto order = [&](size_t i) { return std::make_tuple(std::get<3>(ka[i]), std::get<0>(ka[i]), i); };
  for (const auto& [i, j] : pairs) {
    const double e = pair_error(a, a.records[i], b, b.records[j], d.used_values);
    if (!(e > tolerance)) continue;
    if (!first || order(i) < order(first->first)) {
      first = {i, j};
      first_error = e;
    }
  }
  if (!first) return d;
  d.first = RecordPair{&a.records[first->first], &b.records[first->second], first_error};

  // Pairs at the same position and repetition, from the first difference on, in A's order;
  // the last of each run of one layer stands for that layer.
  const auto [pos, _layer, _op, repeat] = ka[first->first];
  std::optional<RecordPair> pending;
  for (const auto& [i, j] : pairs) {
    if (i < first->first || std::get<0>(ka[i]) != pos || std::get<3>(ka[i]) != repeat) continue;
    const RecordPair p{&a.records[i], &b.records[j],
                       pair_error(a, a.records[i], b, b.records[j], d.used_values)};
    if (pending && pending->a->layer != p.a->layer) d.layers_after.push_back(*pending);
    pending = p;
  }
  if (pending) d.layers_after.push_back(*pending);
  return d;
}

}  // namespace bitnet::diagnostics
