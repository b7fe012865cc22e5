// `bitnet crossval --model M --prompt P --backends a,b[,c]`: the same tokens (the prompt and a
// greedy continuation on the first backend), teacher-forced on every backend, compared position
// by position against the first: max |dlogit|, cosine, KL, top-1 and top-5 agreement, the first
// divergent position, and the first op output that differs. `--reference FILE` compares with
// logits another tool wrote instead (see diagnostics/logits_file.hpp). Exit 1 when a cosine
// falls under --cos-tol.
#include <bitnet/runtime/diagnostics/crossval.hpp>
#include <bitnet/runtime/tokenizer_source/chain.hpp>

#include <boost/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>

#include "../command.hpp"
#include "model_setup.hpp"

namespace bitnet::cli {
namespace {

namespace json = boost::json;
namespace dg = diagnostics;

struct Loaded {
  std::unique_ptr<model::Model> model;
  std::unique_ptr<model::Session> session;
};

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  size_t from = 0;
  while (from <= list.size()) {
    const size_t comma = std::min(list.find(',', from), list.size());
    if (comma > from) out.push_back(list.substr(from, comma - from));
    from = comma + 1;
  }
  return out;
}

json::value number(double v) {
  return std::isfinite(v) ? json::value(v) : json::value(nullptr);
}

// The prompt's tokens, then up to max_tokens chosen greedily by the first backend.
Result<std::vector<int32_t>> greedy_sequence(model::Session& s, const tok::Tokenizer& t,
                                             std::vector<int32_t> tokens, int32_t max_tokens) {
  s.reset();
  std::span<const int32_t> next = tokens;
  for (int32_t i = 0; i < max_tokens; ++i) {
    Result<std::vector<float>> logits = s.eval(next);
    if (!logits) return logits.error();
    const auto id =
        static_cast<int32_t>(std::max_element(logits->begin(), logits->end()) - logits->begin());
    tokens.push_back(id);
    if (id == t.vocab().eos || id == t.vocab().eot) break;
    next = std::span<const int32_t>(&tokens.back(), 1);
  }
  return tokens;
}

void print_text(const std::vector<dg::Comparison>& results, const std::string& reference,
                const std::vector<int32_t>& tokens, const tok::Tokenizer* t,
                const dg::CrossvalOptions& o, bool ops_compared) {
  for (const dg::Comparison& c : results) {
    std::printf("\n%s (reference) vs %s\n%-5s %-18s %12s %10s %10s %5s %5s\n", reference.c_str(),
                c.backend.c_str(), "pos", "token", "max|dlogit|", "cosine", "KL", "top1", "top5");
    for (size_t i = 0; i < c.positions.size(); ++i) {
      const dg::LogitsAgreement& a = c.positions[i];
      std::string token = std::to_string(tokens[i]);
      if (t) token += " '" + t->piece(tokens[i]) + "'";
      if (token.size() > 18) token = token.substr(0, 15) + "...";
      std::printf("%-5zu %-18s %12.4g %10.6f %10.3g %5s %4d/5\n", i, token.c_str(), a.max_abs_diff,
                  a.cosine, a.kl, a.top1 ? "yes" : "NO", a.top5);
    }
    if (c.first_divergent)
      std::printf("first divergent position: %lld (cosine %.6f < %g)\n",
                  static_cast<long long>(*c.first_divergent),
                  c.positions[static_cast<size_t>(*c.first_divergent)].cosine, o.cos_tolerance);
    else
      std::printf("first divergent position: none (every cosine >= %g)\n", o.cos_tolerance);
    if (c.first_op) {
      const dg::OpDivergence& d = *c.first_op;
      std::printf(
          "first op past --op-tol %g: position %lld, %s%s (relative error %.3g, rms %.6g vs "
          "%.6g)\n",
          o.op_tolerance, static_cast<long long>(d.position),
          d.layer ? ("layer " + std::to_string(*d.layer) + " ").c_str() : "", d.op.c_str(), d.error,
          d.rms_reference, d.rms_other);
    } else if (ops_compared) {
      std::printf("first op past --op-tol %g: none\n", o.op_tolerance);
    }
  }
}

json::object to_json(const dg::Comparison& c, const std::vector<int32_t>& tokens) {
  json::array positions;
  double min_cos = 1;
  for (size_t i = 0; i < c.positions.size(); ++i) {
    const dg::LogitsAgreement& a = c.positions[i];
    min_cos = std::fmin(min_cos, a.cosine);
    positions.push_back(json::object{{"position", i},
                                     {"token", tokens[i]},
                                     {"max_abs_diff", number(a.max_abs_diff)},
                                     {"cosine", number(a.cosine)},
                                     {"kl", number(a.kl)},
                                     {"top1", a.top1},
                                     {"top5", a.top5}});
  }
  json::value op = nullptr;
  if (c.first_op)
    op = json::object{
        {"position", c.first_op->position},
        {"layer", c.first_op->layer ? json::value(*c.first_op->layer) : json::value(nullptr)},
        {"op", c.first_op->op},
        {"error", number(c.first_op->error)},
        {"rms_reference", c.first_op->rms_reference},
        {"rms_other", c.first_op->rms_other}};
  return {{"backend", c.backend},
          {"min_cosine", number(min_cos)},
          {"first_divergent_position",
           c.first_divergent ? json::value(*c.first_divergent) : json::value(nullptr)},
          {"first_divergent_op", std::move(op)},
          {"positions", std::move(positions)}};
}

}  // namespace

int run_crossval(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("options");
  options.add_options()("model,m", po::value<std::string>(),
                        "the GGUF model (default: $BITNET_MODEL, else the bundled one)")(
      "prompt,p", po::value<std::string>(), "the text whose tokens are run")(
      "max-tokens,n", po::value<int32_t>()->default_value(16),
      "tokens the first backend adds greedily to the prompt")(
      "backends", po::value<std::string>(),
      "backends to compare, the first as reference: a,b[,c] (see `bitnet plugins`)")(
      "reference", po::value<std::string>(),
      "compare with the logits in FILE (`bitnet run --dump-logits` writes one) instead of a "
      "backend; its tokens are run")(
      "cos-tol", po::value<double>()->default_value(0.999),
      "fail when a position's logits have a cosine similarity under this")(
      "op-tol", po::value<double>()->default_value(1e-3),
      "report the first op output whose relative error passes this")(
      "tokenizer", po::value<std::string>(), "a tokenizer.json instead of the discovered one")(
      "threads,t", po::value<int>(), "worker threads (default: all cores)")(
      "batch", po::value<int64_t>()->default_value(512),
      "tokens per lockstep step; fewer hold fewer op outputs in memory")("json",
                                                                         "print one JSON object");
  po::variables_map vm;
  if (!parse(args, "[--model M.gguf] --prompt TEXT --backends a,b[,c] [options]", options, vm))
    return kExitOk;
  const bool has_reference = vm.count("reference") > 0;
  if (has_reference == (vm.count("prompt") > 0))
    throw UsageError(
        has_reference ? "--prompt and --reference both give the tokens" : "nothing to run",
        "give --prompt TEXT, or --reference FILE with the tokens and their logits");
  std::vector<std::string> backends =
      vm.count("backends") ? split(vm["backends"].as<std::string>()) : std::vector<std::string>();
  if (!has_reference && backends.size() < 2)
    throw UsageError("crossval compares two backends or more", "add --backends a,b");
  const int32_t max_tokens = vm["max-tokens"].as<int32_t>();
  if (max_tokens < 0) throw UsageError("--max-tokens must be 0 or more");
  dg::CrossvalOptions o;
  o.cos_tolerance = vm["cos-tol"].as<double>();
  o.op_tolerance = vm["op-tol"].as<double>();
  o.batch = vm["batch"].as<int64_t>();
  if (!(o.cos_tolerance > -1 && o.cos_tolerance <= 1))
    throw UsageError("--cos-tol is a cosine: between -1 and 1");
  if (!(o.op_tolerance >= 0)) throw UsageError("--op-tol must be 0 or more");
  if (o.batch < 1) throw UsageError("--batch must be at least 1");
  apply_threads(vm);
  const std::string path = model_path(vm);
  auto fail = [](const Error& e) {
    std::cerr << "bitnet crossval: " << e.message << "\n";
    return kExitRuntimeError;
  };

  const plugins::PluginHost host = plugins::PluginHost::scan();
  std::optional<dg::LogitsFile> reference;
  std::optional<tok::Tokenizer> tokenizer;
  std::vector<int32_t> prompt;
  if (has_reference) {
    Result<dg::LogitsFile> f = dg::read_logits_file(vm["reference"].as<std::string>());
    if (!f) return fail(f.error());
    reference = std::move(*f);
  } else {
    Result<gguf::Reader> r = gguf::Reader::open(path);
    if (!r) return fail(r.error());
    Result<tokenizer_source::SourcesConfig> config = tokenizer_source::load_sources_config();
    if (!config) return fail(config.error());
    tokenizer_source::DiscoverOptions d;
    if (vm.count("tokenizer")) d.explicit_path = vm["tokenizer"].as<std::string>();
    Result<tok::Tokenizer> t = tokenizer_source::find_tokenizer(
        host, *config, tokenizer_source::model_facts(*r, path), d, &*r);
    if (!t) return fail(t.error());
    tokenizer.emplace(std::move(*t));
    prompt = tokenizer->encode(vm["prompt"].as<std::string>());
    if (prompt.empty()) throw UsageError("the prompt is no tokens at all", "give --prompt text");
  }
  const int64_t n_ctx = reference ? static_cast<int64_t>(reference->tokens.size())
                                  : static_cast<int64_t>(prompt.size()) + max_tokens;
  if (backends.empty()) backends.push_back("");  // the best-ranked one

  std::vector<Loaded> loaded;
  std::vector<dg::Runner> runners;
  for (const std::string& name : backends) {
    model::ModelOptions mo;
    mo.backend = name;
    mo.force_cpu = env_flag("BITNET_FORCE_CPU");
    mo.deterministic = env_flag("BITNET_DETERMINISTIC");
    mo.n_ctx = n_ctx;
    Result<std::unique_ptr<model::Model>> m = model::Model::load(path, host, mo);
    if (!m) return fail(m.error());
    Result<model::Session> s = model::Session::create(**m, n_ctx, o.batch);
    if (!s) return fail(s.error());
    loaded.push_back({std::move(*m), std::make_unique<model::Session>(std::move(*s))});
    runners.push_back({loaded.back().model.get(), loaded.back().session.get()});
  }

  std::vector<int32_t> tokens;
  Result<std::vector<dg::Comparison>> results = std::vector<dg::Comparison>();
  std::string reference_name;
  if (reference) {
    tokens = reference->tokens;
    reference_name = vm["reference"].as<std::string>();
    results = dg::crossval_reference(runners, *reference, o);
  } else {
    Result<std::vector<int32_t>> seq =
        greedy_sequence(*runners[0].session, *tokenizer, prompt, max_tokens);
    if (!seq) return fail(seq.error());
    tokens = std::move(*seq);
    reference_name = runners[0].model->backend_name();
    results = dg::crossval(runners, tokens, o);
  }
  if (!results) return fail(results.error());
  const bool diverged = std::ranges::any_of(
      *results, [](const dg::Comparison& c) { return c.first_divergent.has_value(); });

  if (vm.count("json")) {
    json::array comparisons;
    for (const dg::Comparison& c : *results)
      comparisons.push_back(to_json(c, tokens));
    std::cout << json::serialize(json::object{{"model", path},
                                              {"reference", reference_name},
                                              {"tokens", json::value_from(tokens)},
                                              {"prompt_tokens", prompt.size()},
                                              {"cos_tol", o.cos_tolerance},
                                              {"op_tol", o.op_tolerance},
                                              {"result", diverged ? "FAIL" : "PASS"},
                                              {"comparisons", std::move(comparisons)}})
              << "\n";
  } else {
    std::printf("model %s: %zu tokens (%s), teacher-forced\n", path.c_str(), tokens.size(),
                reference ? ("from " + reference_name).c_str()
                          : (std::to_string(prompt.size()) + " from the prompt").c_str());
    print_text(*results, reference_name, tokens, tokenizer ? &*tokenizer : nullptr, o, !reference);
    std::printf("\n%s\n", diverged ? "FAIL: the logits diverge" : "PASS");
  }
  return diverged ? kExitRuntimeError : kExitOk;
}

}  // namespace bitnet::cli
