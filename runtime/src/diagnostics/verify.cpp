#include <bitnet/runtime/diagnostics/node_trace.hpp>
#include <bitnet/runtime/diagnostics/tensor_stats.hpp>
#include <bitnet/runtime/diagnostics/verify.hpp>
#include <bitnet/runtime/gguf/norm_stats.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

namespace bitnet::diagnostics {
namespace {

using model::Check;
using model::Verdict;

// A layer's norm this far off the median of its kind fails: trained models stay well inside,
// a wrongly scaled conversion (56x has shipped) does not.
constexpr double kNormFailFactor = 32;
// Mean entropy of the next-token distributions, as a share of a uniform one's (ln n_vocab):
// above kFlat the model says nothing; below kCollapsed (nats) it is sure of everything.
constexpr double kFlat = 0.995;
constexpr double kCollapsed = 0.01;
// This many identical tokens at the end of the generation are a loop.
constexpr size_t kRepeatRun = 8;

std::string fmt(double v, const char* spec = "%.3g") {
  char buf[32];
  std::snprintf(buf, sizeof buf, spec, v);
  return buf;
}

std::string token(const tok::Tokenizer& t, int32_t id) {
  if (id < 0 || static_cast<size_t>(id) >= t.size()) return std::to_string(id);
  return std::to_string(id) + " '" + t.piece(id) + "'";
}

const std::vector<gguf::Value>* embedded_tokens(const gguf::Reader& r) {
  const gguf::Value* v = r.find("tokenizer.ggml.tokens");
  const gguf::Array* a = v ? v->as_array() : nullptr;
  return a && a->element_type == gguf::ValueType::string ? &a->items : nullptr;
}

std::string node_label(const std::optional<int64_t>& layer, std::string_view op) {
  return layer ? "layer " + std::to_string(*layer) + " " + std::string(op)
               : std::string(op) + " (outside layers)";
}

size_t argmax(std::span<const float> v) {
  size_t best = 0;
  for (size_t i = 1; i < v.size(); ++i)
    if (v[i] > v[best]) best = i;
  return best;
}

double entropy(std::span<const float> logits) {
  double hi = -INFINITY;
  for (float x : logits)
    hi = std::max<double>(hi, x);
  double z = 0, weighted = 0;
  for (float x : logits) {
    const double e = std::exp(x - hi);
    z += e;
    weighted += e * (x - hi);
  }
  return std::log(z) - weighted / z;
}

Check logits_check(const std::vector<float>& rows, size_t n_vocab) {
  const size_t n = rows.size() / n_vocab;
  double sum = 0;
  size_t counted = 0;
  for (size_t i = 0; i < n; ++i) {
    const std::span<const float> row(rows.data() + i * n_vocab, n_vocab);
    if (std::ranges::any_of(row, [](float x) { return !std::isfinite(x); })) continue;
    const auto [lo, hi] = std::ranges::minmax(row);
    if (hi - lo <= 1e-6f * std::max(1.0f, std::fabs(hi)))
      return {"logits", Verdict::fail,
              "every logit at position " + std::to_string(i) + " is " + fmt(hi) +
                  ": the model cannot prefer any token (zeroed weights, a broken head or norm)"};
    sum += entropy(row);
    ++counted;
  }
  if (!counted)
    return {"logits", Verdict::fail, "no position has finite logits (see the NaN/Inf check)"};
  const double mean = sum / static_cast<double>(counted);
  const double uniform = std::log(static_cast<double>(n_vocab));
  const std::string figures = "mean entropy " + fmt(mean) + " nats over " +
                              std::to_string(counted) + " positions (uniform: " + fmt(uniform) +
                              ")";
  if (mean > kFlat * uniform)
    return {"logits", Verdict::warn,
            figures +
                ": next-token distributions are nearly flat, as from random or scrambled "
                "weights, or a tokenizer that does not belong to the model"};
  if (mean < kCollapsed)
    return {"logits", Verdict::warn,
            figures + ": every prediction is certain, as when activations blow up"};
  return {"logits", Verdict::pass, figures};
}

Check repetition_check(const tok::Tokenizer& t, const std::vector<int32_t>& generated) {
  if (generated.size() < kRepeatRun)
    return {"repetition", Verdict::pass,
            std::to_string(generated.size()) + (generated.size() == 1 ? " token" : " tokens") +
                " generated, fewer than the " + std::to_string(kRepeatRun) +
                " a loop is judged on"};
  size_t run = 1;
  while (run < generated.size() && generated[generated.size() - 1 - run] == generated.back())
    ++run;
  if (run >= kRepeatRun)
    return {"repetition", Verdict::warn,
            "the generation ends in token " + token(t, generated.back()) + " " +
                std::to_string(run) + " times in a row"};
  return {"repetition", Verdict::pass,
          "no token repeats " + std::to_string(kRepeatRun) + " times in a row"};
}

}  // namespace

Check vocabulary_check(const tok::Tokenizer& t, const gguf::Reader& model_file, int64_t n_vocab) {
  const auto n = static_cast<int64_t>(t.size());
  const std::string sizes =
      std::to_string(n) + " tokens, " + std::to_string(n_vocab) + " embedding rows";
  if (n > n_vocab)
    return {"vocabulary", Verdict::fail,
            sizes + ": ids from " + std::to_string(n_vocab) +
                " on have no embedding; the tokenizer belongs to another model"};
  if (const std::vector<gguf::Value>* own = embedded_tokens(model_file)) {
    size_t differ = 0;
    std::optional<size_t> first;
    const size_t common = std::min(own->size(), t.size());
    for (size_t i = 0; i < common; ++i) {
      const std::string* piece = (*own)[i].as_string();
      if (piece && *piece == t.piece(static_cast<int32_t>(i))) continue;
      ++differ;
      if (!first) first = i;
    }
    if (differ || own->size() != t.size())
      return {"vocabulary", Verdict::fail,
              sizes + ", but the model file's own vocabulary has " + std::to_string(own->size()) +
                  " tokens" +
                  (first ? " and " + std::to_string(differ) + " differ (first: id " +
                               std::to_string(*first) + ", '" + *(*own)[*first].as_string() +
                               "' in the file, '" + t.piece(static_cast<int32_t>(*first)) +
                               "' in the tokenizer)"
                         : std::string()) +
                  "; drop --tokenizer to use the model's own"};
  }
  return {"vocabulary", Verdict::pass,
          sizes + (n < n_vocab ? " (the rows past the tokenizer are padding)" : "")};
}

Check special_tokens_check(const tok::Tokenizer& t, const gguf::Reader& model_file,
                           int64_t n_vocab) {
  const tok::VocabData& v = t.vocab();
  const std::pair<const char*, const std::optional<tok::TokenId>*> ids[] = {
      {"bos", &v.bos}, {"eos", &v.eos}, {"eot", &v.eot}};
  std::string found;
  for (const auto& [name, id] : ids) {
    if (!*id) continue;
    if (**id < 0 || **id >= n_vocab)
      return {"special tokens", Verdict::fail,
              std::string(name) + " is id " + std::to_string(**id) + ", outside the " +
                  std::to_string(n_vocab) + " embedding rows"};
    const gguf::Value* meta = model_file.find("tokenizer.ggml." + std::string(name) + "_token_id");
    const std::optional<uint64_t> own = meta ? meta->as_uint() : std::nullopt;
    if (own && *own != static_cast<uint64_t>(**id))
      return {"special tokens", Verdict::fail,
              "the model file says " + std::string(name) + " is " + std::to_string(*own) +
                  ", the tokenizer says " + token(t, **id) +
                  ": prompts would start, or generation stop, on the wrong token"};
    found.append(found.empty() ? "" : ", ").append(name).append(" ").append(token(t, **id));
  }
  if (!v.eos && !v.eot)
    return {"special tokens", Verdict::warn,
            "no end-of-sequence or end-of-turn token: generation stops only at --max-tokens" +
                (found.empty() ? std::string() : " (" + found + ")")};
  return {"special tokens", Verdict::pass, found};
}

Check prompt_bos_check(const tok::Tokenizer& t, std::span<const int32_t> prompt) {
  const std::optional<tok::TokenId> bos = t.vocab().bos;
  if (!bos) return {"prompt BOS", Verdict::pass, "the tokenizer has no BOS token"};
  if (prompt.size() >= 2 && prompt[0] == *bos && prompt[1] == *bos)
    return {"prompt BOS", Verdict::warn,
            "the prompt starts with BOS " + token(t, *bos) +
                " twice: its text begins with the BOS token and the tokenizer adds one; "
                "leave it out of the text"};
  if (!prompt.empty() && prompt[0] == *bos)
    return {"prompt BOS", Verdict::pass, "starts with one BOS " + token(t, *bos)};
  return {"prompt BOS", Verdict::pass, "no BOS: the tokenizer does not add one"};
}

Check norm_weights_check(const gguf::Reader& model_file) {
  const std::vector<gguf::NormStats> stats = gguf::norm_stats(model_file);
  if (stats.empty())
    return {"norm weights", Verdict::warn, "no norm weights in float types to look at"};
  const gguf::NormStats* worst = nullptr;
  auto off = [](const gguf::NormStats& s) {
    return std::max(s.ratio_to_median, 1 / s.ratio_to_median);
  };
  for (const gguf::NormStats& s : stats) {
    if (!std::isfinite(s.rms) || (s.min == 0 && s.max == 0))
      return {"norm weights", Verdict::fail,
              s.tensor + (std::isfinite(s.rms) ? " is all zeros" : " holds NaN or Inf") +
                  ": every activation through it is lost"};
    if (s.outlier && (!worst || off(s) > off(*worst))) worst = &s;
  }
  const std::string scope = std::to_string(stats.size()) + " norm weights";
  if (!worst) return {"norm weights", Verdict::pass, scope + ", no layer far from its siblings"};
  const std::string what = worst->tensor + " has RMS " + fmt(worst->rms) + ", " +
                           fmt(worst->ratio_to_median) + "x the median of its kind";
  if (off(*worst) >= kNormFailFactor)
    return {"norm weights", Verdict::fail,
            what +
                ": the file was converted or quantised wrongly (`bitnet inspect --ln-stats` "
                "lists every layer)"};
  return {"norm weights", Verdict::warn, what + " (`bitnet inspect --ln-stats` lists every layer)"};
}

Result<ProbeResult> generation_probe(model::Model& m, model::Session& s, const tok::Tokenizer& t,
                                     std::span<const int32_t> prompt, int32_t max_tokens) {
  struct Bad {
    int64_t position;
    std::optional<int64_t> layer;
    std::string op;
    int64_t nonfinite, count;
  };
  std::optional<Bad> bad;
  size_t outputs = 0;
  s.reset();
  s.observe(slice_observer(m.backend(), {}, [&](const NodeSlice& slice) -> Result<> {
    ++outputs;
    if (bad) return {};
    const int64_t n =
        std::ranges::count_if(slice.values, [](float x) { return !std::isfinite(x); });
    if (n)
      bad = Bad{slice.position, slice.layer, std::string(slice.op), n,
                static_cast<int64_t>(slice.values.size())};
    return {};
  }));
  ProbeResult out;
  Result<std::vector<float>> first = s.eval(prompt, true);
  if (!first) {
    s.observe({});
    return first.error();
  }
  std::vector<float> rows = std::move(*first);
  const size_t n_vocab = static_cast<size_t>(s.n_vocab());
  const tok::VocabData& v = t.vocab();
  while (true) {
    const auto next = static_cast<int32_t>(
        argmax(std::span<const float>(rows).subspan(rows.size() - n_vocab, n_vocab)));
    out.generated.push_back(next);
    if (next == v.eos || next == v.eot || static_cast<int32_t>(out.generated.size()) >= max_tokens)
      break;
    Result<std::vector<float>> r = s.eval(std::span<const int32_t>(&next, 1));
    if (!r) {
      s.observe({});
      return r.error();
    }
    rows.insert(rows.end(), r->begin(), r->end());
  }
  s.observe({});
  const int64_t positions = s.n_past();
  if (bad)
    out.checks.push_back({"non-finite values", Verdict::fail,
                          "the first NaN or Inf is at position " + std::to_string(bad->position) +
                              ", " + node_label(bad->layer, bad->op) + " (" +
                              std::to_string(bad->nonfinite) + " of its " +
                              std::to_string(bad->count) +
                              " values); `bitnet crossval` against another backend shows whether "
                              "the op or the weights are at fault"});
  else
    out.checks.push_back({"non-finite values", Verdict::pass,
                          std::to_string(outputs) + " op outputs over " +
                              std::to_string(positions) + " positions, all finite"});
  out.checks.push_back(logits_check(rows, n_vocab));
  out.checks.push_back(repetition_check(t, out.generated));
  return out;
}

}  // namespace bitnet::diagnostics
