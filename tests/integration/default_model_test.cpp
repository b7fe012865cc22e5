// The bundled model (models/, trained by tools/train-tiny): `bitnet run` uses it without
// --model and writes English, and its held-out perplexity agrees with the training script's
// figure recorded beside it.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <cctype>
#include <fstream>
#include <sstream>

#include "cli_runner.hpp"

namespace json = boost::json;
using namespace bitnet_test;

namespace {

json::object last_json_line(const std::string& out) {
  std::istringstream lines(out);
  std::string line, found;
  while (std::getline(lines, line))
    if (line.rfind("{\"", 0) == 0) found = line;
  BOOST_REQUIRE_MESSAGE(!found.empty(), "no JSON line in: " + out);
  return json::parse(found).as_object();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(default_model)

BOOST_AUTO_TEST_CASE(run_without_a_model_writes_english) {
  const Run r = run_cli("run --prompt 'The jury said' --max-tokens 48 --greedy --json");
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out);
  const json::object o = last_json_line(r.out);
  BOOST_TEST(std::string(o.at("model").as_string()).ends_with("bitnet-b1.58-tiny-brown.gguf"));
  BOOST_TEST(o.at("architecture").as_string() == "bitnet-b1.58");
  // Letters, spaces and punctuation, in words of English length: not byte soup.
  const std::string text(o.at("text").as_string());
  size_t plain = 0, words = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    plain += std::isalpha(c) || c == ' ' || c == '\n' || std::ispunct(c);
    words += c == ' ' && i > 0 && std::isalpha(static_cast<unsigned char>(text[i - 1]));
  }
  BOOST_TEST(text.size() > 60u, text);
  BOOST_TEST(plain >= text.size() * 95 / 100, text);
  BOOST_TEST(words >= text.size() / 10, text);
}

BOOST_AUTO_TEST_CASE(heldout_perplexity_matches_training) {
  std::ifstream f(BITNET_MODELS_DIR "/bitnet-b1.58-tiny-brown.json");
  BOOST_REQUIRE(f);
  std::stringstream s;
  s << f.rdbuf();
  const json::object trained = json::parse(s.str()).as_object();
  const json::object& ppl = trained.at("heldout_perplexity").as_object();
  const double want = ppl.at("value").to_number<double>();
  const Run r = run_cli("perplexity --file '" BITNET_MODELS_DIR "/brown-heldout.txt' --ctx " +
                        std::to_string(ppl.at("ctx").as_int64()) + " --json");
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out);
  const json::object o = last_json_line(r.out);
  const double got = o.at("ppl").to_number<double>();
  BOOST_TEST_MESSAGE("held-out perplexity: bitnet " << got << ", training script " << want);
  BOOST_TEST(o.at("scored").as_int64() == ppl.at("scored_tokens").as_int64());
  BOOST_TEST(std::abs(got - want) <= 0.01 * want);
}

BOOST_AUTO_TEST_SUITE_END()
