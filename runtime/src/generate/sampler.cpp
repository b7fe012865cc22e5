#include <bitnet/runtime/generate/sampler.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace bitnet::generate {

std::string check_sampling(const SamplingParams& p) {
  if (!(p.temperature >= 0) || !std::isfinite(p.temperature))
    return "--temperature must be a number >= 0";
  if (p.top_k < 0) return "--top-k must be >= 0 (0 turns it off)";
  if (!(p.top_p > 0 && p.top_p <= 1)) return "--top-p must be in (0, 1]";
  if (!(p.min_p >= 0 && p.min_p <= 1)) return "--min-p must be in [0, 1]";
  if (!(p.repeat_penalty > 0) || !std::isfinite(p.repeat_penalty))
    return "--repeat-penalty must be > 0 (1 turns it off)";
  if (p.repeat_last_n < 0) return "--repeat-last-n must be >= 0";
  return {};
}

double Sampler::uniform() {
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
  work_.assign(logits.begin(), logits.end());
  if (p_.repeat_penalty != 1.0f && p_.repeat_last_n > 0) {
    const size_t n = std::min(history.size(), static_cast<size_t>(p_.repeat_last_n));
    std::vector<int32_t> seen(history.end() - static_cast<std::ptrdiff_t>(n), history.end());
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    for (int32_t id : seen)
      if (id >= 0 && static_cast<size_t>(id) < work_.size())
        work_[id] = work_[id] > 0 ? work_[id] / p_.repeat_penalty : work_[id] * p_.repeat_penalty;
  }
  // Ties go to the lowest id, so greedy output does not depend on the sort's stability.
  auto better = [&](int32_t a, int32_t b) {
    return work_[a] > work_[b] || (work_[a] == work_[b] && a < b);
  };
  if (p_.greedy || p_.temperature <= 0) {
    int32_t best = 0;
    for (int32_t i = 1; i < static_cast<int32_t>(work_.size()); ++i)
      if (better(i, best)) best = i;
    return best;
  }
  std::vector<int32_t> ids(work_.size());
  std::iota(ids.begin(), ids.end(), 0);
  size_t keep = ids.size();
  if (p_.top_k > 0) keep = std::min(keep, static_cast<size_t>(p_.top_k));
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(keep), ids.end(),
                    better);
  ids.resize(keep);

  // Filters see the model's own distribution (temperature 1), as llama.cpp's do.
  const double top = work_[ids[0]];
  std::vector<double> p(keep);
  double sum = 0;
  for (size_t i = 0; i < keep; ++i)
    sum += p[i] = std::exp(static_cast<double>(work_[ids[i]]) - top);
  if (p_.top_p < 1) {
    double cum = 0;
    size_t n = 0;
    while (n < keep && cum < p_.top_p * sum)
      cum += p[n++];
    keep = std::max<size_t>(n, 1);
  }
  if (p_.min_p > 0) {
    size_t n = 1;
    while (n < keep && p[n] >= p_.min_p * p[0])
      ++n;
    keep = n;
  }
  sum = 0;
  for (size_t i = 0; i < keep; ++i)
    sum += p[i] = std::exp((static_cast<double>(work_[ids[i]]) - top) / p_.temperature);
  double r = uniform() * sum;
  for (size_t i = 0; i < keep; ++i)
    if ((r -= p[i]) < 0) return ids[i];
  return ids[keep - 1];
}

}  // namespace bitnet::generate
