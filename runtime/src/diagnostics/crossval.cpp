#include <bitnet/runtime/diagnostics/crossval.hpp>
#include <bitnet/runtime/diagnostics/node_trace.hpp>
#include <bitnet/runtime/diagnostics/tensor_stats.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>

namespace bitnet::diagnostics {
namespace {

struct Captured {
  int64_t position;
  std::optional<int64_t> layer;
  std::string op;
  std::vector<float> values;
};

std::vector<size_t> top(std::span<const float> v, size_t k) {
  std::vector<size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), size_t{0});
  k = std::min(k, idx.size());
  // NaN ranks last: comparisons with it would break the sort's ordering.
  auto key = [&](size_t i) { return std::isnan(v[i]) ? -INFINITY : v[i]; };
  std::partial_sort(
      idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(),
      [&](size_t a, size_t b) { return std::pair(-key(a), a) < std::pair(-key(b), b); });
  idx.resize(k);
  return idx;
}

double log_sum_exp(std::span<const float> v) {
  double hi = -INFINITY;
  for (float x : v)
    hi = std::max<double>(hi, x);
  double sum = 0;
  for (float x : v)
    sum += std::exp(x - hi);
  return hi + std::log(sum);
}

Result<> check_tokens(std::span<const Runner> runners, size_t n_tokens) {
  if (n_tokens == 0)
    return make_error(BITNET_STATUS_INVALID_ARGUMENT, "crossval needs at least one token");
  for (const Runner& r : runners)
    if (r.session->n_ctx() < static_cast<int64_t>(n_tokens))
      return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                        std::to_string(n_tokens) + " tokens do not fit a context of " +
                            std::to_string(r.session->n_ctx()) + "; raise --ctx");
  return {};
}

void mark_divergence(Comparison& c, double cos_tolerance) {
  for (size_t i = 0; i < c.positions.size() && !c.first_divergent; ++i)
    if (!(c.positions[i].cosine >= cos_tolerance)) c.first_divergent = static_cast<int64_t>(i);
}

}  // namespace

LogitsAgreement compare_logits(std::span<const float> reference, std::span<const float> other) {
  LogitsAgreement a;
  double dot = 0, nr = 0, no = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    const double r = reference[i], o = other[i];
    a.max_abs_diff = std::max(a.max_abs_diff, std::fabs(r - o));
    if (std::isnan(r - o)) a.max_abs_diff = NAN;
    dot += r * o;
    nr += r * r;
    no += o * o;
  }
  a.cosine = nr > 0 && no > 0 ? dot / std::sqrt(nr * no) : (nr == no ? 1.0 : 0.0);
  const double lse_r = log_sum_exp(reference), lse_o = log_sum_exp(other);
  double kl = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    const double lr = reference[i] - lse_r, lo = other[i] - lse_o;
    if (std::exp(lr) > 0) kl += std::exp(lr) * (lr - lo);
  }
  a.kl = std::max(kl, 0.0);
  const std::vector<size_t> tr = top(reference, 5), to = top(other, 5);
  a.top1 = tr.front() == to.front();
  a.top5 = static_cast<int>(
      std::ranges::count_if(tr, [&](size_t i) { return std::ranges::find(to, i) != to.end(); }));
  return a;
}

Result<std::vector<Comparison>> crossval(std::span<const Runner> runners,
                                         std::span<const int32_t> tokens,
                                         const CrossvalOptions& options) {
  if (runners.size() < 2)
    return make_error(BITNET_STATUS_INVALID_ARGUMENT, "crossval needs two backends or more");
  if (Result<> r = check_tokens(runners, tokens.size()); !r) return r.error();
  std::vector<Comparison> out(runners.size() - 1);
  for (size_t k = 1; k < runners.size(); ++k)
    out[k - 1].backend = runners[k].model->backend_name();
  for (const Runner& r : runners)
    r.session->reset();

  const Runner& ref = runners[0];
  std::vector<Captured> captured;
  const size_t batch = static_cast<size_t>(std::max<int64_t>(options.batch, 1));
  for (size_t at = 0; at < tokens.size(); at += batch) {
    const std::span<const int32_t> chunk = tokens.subspan(at, std::min(batch, tokens.size() - at));
    captured.clear();
    ref.session->observe(
        slice_observer(ref.model->backend(), {}, [&](const NodeSlice& s) -> Result<> {
          captured.push_back({s.position, s.layer, std::string(s.op),
                              std::vector<float>(s.values.begin(), s.values.end())});
          return {};
        }));
    Result<std::vector<float>> ref_logits = ref.session->eval(chunk, true);
    ref.session->observe({});
    if (!ref_logits) return ref_logits.error();
    const size_t n_vocab = ref_logits->size() / chunk.size();

    for (size_t k = 1; k < runners.size(); ++k) {
      Comparison& c = out[k - 1];
      size_t next = 0;
      std::optional<std::tuple<int64_t, size_t, OpDivergence>> best;  // position, order, what
      runners[k].session->observe(
          slice_observer(runners[k].model->backend(), {}, [&](const NodeSlice& s) -> Result<> {
            if (next >= captured.size() || captured[next].op != s.op ||
                captured[next].position != s.position || captured[next].layer != s.layer)
              return make_error(BITNET_STATUS_INTERNAL,
                                "backend '" + c.backend + "' computed another graph than '" +
                                    ref.model->backend_name() + "'; are both on the same model?");
            const Captured& want = captured[next];
            const double e = relative_error(want.values, s.values);
            const auto order = std::make_tuple(s.position, next);
            ++next;
            if (!(e > options.op_tolerance) ||
                (best && std::tie(std::get<0>(*best), std::get<1>(*best)) <= order))
              return {};
            best.emplace(s.position, std::get<1>(order),
                         OpDivergence{s.position, s.layer, std::string(s.op), e,
                                      tensor_stats(want.values).rms, tensor_stats(s.values).rms});
            return {};
          }));
      Result<std::vector<float>> logits = runners[k].session->eval(chunk, true);
      runners[k].session->observe({});
      if (!logits) return logits.error();
      if (logits->size() != ref_logits->size())
        return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                          "backend '" + c.backend + "' gave logits of another vocabulary size");
      if (!c.first_op && best) c.first_op = std::get<2>(*best);
      for (size_t i = 0; i < chunk.size(); ++i)
        c.positions.push_back(
            compare_logits(std::span<const float>(*ref_logits).subspan(i * n_vocab, n_vocab),
                           std::span<const float>(*logits).subspan(i * n_vocab, n_vocab)));
    }
  }
  for (Comparison& c : out)
    mark_divergence(c, options.cos_tolerance);
  return out;
}

Result<std::vector<Comparison>> crossval_reference(std::span<const Runner> runners,
                                                   const LogitsFile& reference,
                                                   const CrossvalOptions& options) {
  if (Result<> r = check_tokens(runners, reference.tokens.size()); !r) return r.error();
  std::vector<Comparison> out;
  for (const Runner& r : runners) {
    if (r.session->n_vocab() != reference.n_vocab)
      return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                        "the reference has logits over " + std::to_string(reference.n_vocab) +
                            " tokens, the model " + std::to_string(r.session->n_vocab()) +
                            "; was it written for this model?");
    r.session->reset();
    Result<std::vector<float>> logits = r.session->eval(reference.tokens, true);
    if (!logits) return logits.error();
    Comparison c;
    c.backend = r.model->backend_name();
    const size_t v = static_cast<size_t>(reference.n_vocab);
    for (size_t i = 0; i < reference.tokens.size(); ++i)
      c.positions.push_back(
          compare_logits(reference.row(i), std::span<const float>(*logits).subspan(i * v, v)));
    mark_divergence(c, options.cos_tolerance);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace bitnet::diagnostics
