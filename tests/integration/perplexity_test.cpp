// Perplexity against its definition: the same chunks (BOS first, tail dropped) scored from the
// float64 reference's logits (tests/reference/), second halves and whole chunks; then
// `bitnet perplexity` as a user runs it, and its refusals.
#include <bitnet/runtime/generate/perplexity.hpp>
#include <bitnet/runtime/gguf/reader.hpp>
#include <bitnet/runtime/tokenizer/load.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>

#include "../reference/reference_forward.hpp"
#include "cli_runner.hpp"
#include "random_model.hpp"

using namespace bitnet;
using namespace bitnet_test;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kCtx = 16;
const std::string kText =
    "hello world and the world of hello to the end. in the world, hello and to the world of "
    "words; then the hello world again and again to the end of the text.";

fs::path model_path() {
  const fs::path p = fs::temp_directory_path() / "bitnet-perplexity-llama.gguf";
  auto w = testing::random_model({.arch = "llama", .seed = 5, .n_ctx = 64});
  BOOST_REQUIRE(w);
  BOOST_REQUIRE(w->write(p));
  return p;
}

fs::path text_path(const std::string& text) {
  const fs::path p = fs::temp_directory_path() / "bitnet-perplexity.txt";
  std::ofstream(p) << text;
  return p;
}

struct Text {
  std::unique_ptr<tok::Tokenizer> tokenizer;
  std::vector<int32_t> tokens;  // BOS, then kText
  int32_t bos = 0;
};

// kText as llama.cpp's perplexity tokenises it, with the model's own tokenizer.
Text tokenize(const gguf::Reader& model) {
  auto vocab = tok::vocab_from_gguf(model);
  BOOST_REQUIRE(vocab);
  BOOST_REQUIRE(vocab->add_bos && vocab->bos);
  Text t;
  t.bos = *vocab->bos;
  auto tokenizer = tok::Tokenizer::create(std::move(*vocab));
  BOOST_REQUIRE(tokenizer);
  t.tokenizer = std::make_unique<tok::Tokenizer>(std::move(*tokenizer));
  t.tokens = t.tokenizer->encode(kText, {.add_special = false});
  t.tokens.insert(t.tokens.begin(), t.bos);
  BOOST_REQUIRE(t.tokens.size() % kCtx != 0);  // so the dropped tail is on the path
  BOOST_REQUIRE(t.tokens.size() >= 3 * kCtx);
  return t;
}

struct Expected {
  double nll = 0, nll_full = 0;
  int64_t chunks = 0;
};

// Scores every chunk from the reference's logits, independently of the runtime.
Expected expected(const gguf::Reader& model, std::vector<int32_t> tokens, int32_t bos) {
  Expected e;
  e.chunks = static_cast<int64_t>(tokens.size()) / kCtx;
  int64_t n = 0, n_full = 0;
  for (int64_t c = 0; c < e.chunks; ++c) {
    std::vector<int32_t> chunk(tokens.begin() + c * kCtx, tokens.begin() + (c + 1) * kCtx);
    chunk[0] = bos;
    const auto logits = reference::forward(model, chunk);
    for (int64_t p = 0; p + 1 < kCtx; ++p) {
      double sum = 0;
      for (double l : logits[p])
        sum += std::exp(l);
      const double nll = std::log(sum) - logits[p][chunk[p + 1]];
      e.nll_full += nll;
      ++n_full;
      if (p >= kCtx / 2) {
        e.nll += nll;
        ++n;
      }
    }
  }
  e.nll /= static_cast<double>(n);
  e.nll_full /= static_cast<double>(n_full);
  return e;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(perplexity)

BOOST_AUTO_TEST_CASE(matches_the_definition_on_reference_logits) {
  const fs::path path = model_path();
  auto reader = gguf::Reader::open(path);
  BOOST_REQUIRE(reader);
  const Text text = tokenize(*reader);
  const std::vector<int32_t>& tokens = text.tokens;
  const int32_t bos = text.bos;

  const plugins::PluginHost host =
      plugins::PluginHost::scan(plugins::HostOptions{{BITNET_BUILT_PLUGIN_DIR}});
  auto m = model::Model::load(path, host, {.backend = "cpu-generic"});
  BOOST_REQUIRE(m);
  auto session = model::Session::create(**m, kCtx, 5);
  BOOST_REQUIRE(session);
  int64_t calls = 0;
  auto r = generate::perplexity(*session, *text.tokenizer, kText,
                                {.progress = [&](int64_t done, int64_t total, double ppl) {
                                  BOOST_TEST(done == ++calls);
                                  BOOST_TEST(total == static_cast<int64_t>(tokens.size()) / kCtx);
                                  BOOST_TEST(ppl > 1);
                                }});
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  const Expected e = expected(*reader, tokens, bos);
  BOOST_TEST(r->tokens == static_cast<int64_t>(tokens.size()));
  BOOST_TEST(r->chunks == e.chunks);
  BOOST_TEST(calls == e.chunks);
  BOOST_TEST(r->n_ctx == kCtx);
  BOOST_TEST(r->scored == e.chunks * (kCtx - 1 - kCtx / 2));
  BOOST_TEST(r->scored_full == e.chunks * (kCtx - 1));
  BOOST_TEST(r->nll == e.nll, boost::test_tools::tolerance(1e-5));
  BOOST_TEST(r->nll_full == e.nll_full, boost::test_tools::tolerance(1e-5));
  BOOST_TEST(r->ppl == std::exp(r->nll), boost::test_tools::tolerance(1e-12));

  auto too_long = generate::perplexity(*session, tokens, bos, {.n_ctx = 2 * kCtx, .progress = {}});
  BOOST_REQUIRE(!too_long);
  BOOST_TEST(contains(too_long.error().message, "it needs 3 to 16"));
  auto too_short = generate::perplexity(
      *session, std::span(tokens).first(static_cast<size_t>(kCtx - 1)), bos, {});
  BOOST_REQUIRE(!too_short);
  BOOST_TEST(contains(too_short.error().message, "fewer than one chunk of 16"));
}

BOOST_AUTO_TEST_CASE(cli_text_and_json) {
  const fs::path path = model_path();
  auto reader = gguf::Reader::open(path);
  BOOST_REQUIRE(reader);
  const Text text = tokenize(*reader);
  const Expected e = expected(*reader, text.tokens, text.bos);
  const std::string model = "--model '" + path.string() + "'";
  const std::string file = "--file '" + text_path(kText).string() + "'";
  // Whichever backend the CLI picks, it computes the definition.
  Run r = run_cli("perplexity " + model + " " + file + " --ctx 16 --batch 5 --json");
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out);
  const boost::json::object o = boost::json::parse(r.out.substr(0, r.out.find('\n'))).as_object();
  BOOST_TEST(o.at("ctx").as_int64() == kCtx);
  BOOST_TEST(o.at("tokens").as_int64() == static_cast<int64_t>(text.tokens.size()));
  BOOST_TEST(o.at("chunks").as_int64() == e.chunks);
  BOOST_TEST(o.at("nll").as_double() == e.nll, boost::test_tools::tolerance(1e-4));
  BOOST_TEST(o.at("nll_full").as_double() == e.nll_full, boost::test_tools::tolerance(1e-4));
  BOOST_TEST(o.at("ppl").as_double() == std::exp(o.at("nll").as_double()),
             boost::test_tools::tolerance(1e-12));
  // Not a terminal: no progress bar.
  BOOST_TEST(!contains(r.out, "[#"));

  r = run_cli("perplexity " + model + " " + file + " --ctx 16");
  BOOST_TEST(r.exit_code == 0, r.out);
  BOOST_TEST(contains(r.out, "over the second half of each chunk (as llama.cpp)"), r.out);
  BOOST_TEST(contains(r.out, "over every prediction"), r.out);

  r = run_cli("perplexity " + model + " --file '" + text_path("hello").string() + "' --ctx 16");
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.out, "fewer than one chunk"), r.out);
  r = run_cli("perplexity " + model);
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(contains(r.out, "--file"), r.out);
  r = run_cli("perplexity " + model + " --file /nonexistent/text.txt");
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.out, "cannot read"), r.out);
}

BOOST_AUTO_TEST_SUITE_END()
