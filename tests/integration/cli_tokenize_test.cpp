// `bitnet tokenize` on the tokenizer a generated model embeds: text, JSON and JSON-lines modes,
// special-token switches, chat prompts, and usage errors.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>

#include "cli_runner.hpp"
#include "random_model.hpp"

namespace json = boost::json;
using namespace bitnet_test;

BOOST_AUTO_TEST_SUITE(cli_tokenize)

BOOST_AUTO_TEST_CASE(modes_and_switches) {
  const auto path = std::filesystem::temp_directory_path() / "bitnet-cli-tokenize.gguf";
  auto w = bitnet::testing::random_model({.arch = "llama"});
  BOOST_REQUIRE(w.has_value());
  BOOST_REQUIRE(w->write(path));
  const std::string model = "--model '" + path.string() + "'";

  Run r = run_cli("tokenize " + model + " --json --text 'the world'");
  BOOST_TEST(r.exit_code == 0, r.out);
  const json::object j = json::parse(r.out.substr(0, r.out.find('\n'))).as_object();
  BOOST_TEST(j.at("ids").as_array().at(0).as_int64() == 1);  // BOS: SentencePiece default
  BOOST_TEST(j.at("pieces").as_array().at(1).as_string() == "\xe2\x96\x81the");

  Run plain = run_cli("tokenize " + model + " --no-special --text 'the'");
  BOOST_TEST(plain.exit_code == 0, plain.out);
  BOOST_TEST(plain.out.find("\xe2\x96\x81the") == plain.out.find('\t') + 1, plain.out);

  // One {"ids"} line per {"text"} line; "</s>" stays text unless --parse-special.
  Run lines = run_cli("tokenize " + model + " --jsonl --no-special",
                      "printf '%s\\n' '{\"text\": \"the\"}' '{\"text\": \"</s>\"}' |");
  BOOST_TEST(lines.exit_code == 0, lines.out);
  BOOST_TEST(std::count(lines.out.begin(), lines.out.end(), '\n') == 2, lines.out);
  BOOST_TEST(!contains(lines.out, "{\"ids\":[2]}"), lines.out);
  Run special = run_cli("tokenize " + model + " --no-special --parse-special --json --text '</s>'");
  BOOST_TEST(contains(special.out, "\"ids\":[2]"), special.out);

  Run bad_line = run_cli("tokenize " + model + " --jsonl", "echo 'not json' |");
  BOOST_TEST(bad_line.exit_code == 1);
  BOOST_TEST(contains(bad_line.out, "stdin line 1: it is not JSON"), bad_line.out);
  Run no_text = run_cli("tokenize " + model + " --jsonl", "echo '{\"txt\": 1}' |");
  BOOST_TEST(contains(no_text.out, "stdin line 1: it is not a JSON object with a string"),
             no_text.out);
  BOOST_TEST(run_cli("tokenize --text x").exit_code == 2);
  Run missing = run_cli("tokenize --tokenizer /nonexistent/tokenizer.json --text x");
  BOOST_TEST(missing.exit_code == 1);
  BOOST_TEST(contains(missing.out, "/nonexistent/tokenizer.json: cannot read"), missing.out);
  std::filesystem::remove(path);
}

// The generated phi3 model carries no chat_template: the architecture picks the format, and
// the format's control tokens come out as single tokens.
BOOST_AUTO_TEST_CASE(chat_prompts) {
  const auto path = std::filesystem::temp_directory_path() / "bitnet-cli-tokenize-chat.gguf";
  auto w = bitnet::testing::random_model({.arch = "phi3"});
  BOOST_REQUIRE(w.has_value());
  BOOST_REQUIRE(w->write(path));
  const std::string model = "--model '" + path.string() + "'";

  Run r = run_cli("tokenize " + model + " --chat --system 'be brief' --json --text 'hello'");
  BOOST_TEST(r.exit_code == 0, r.out);
  const json::object j = json::parse(r.out.substr(0, r.out.find('\n'))).as_object();
  BOOST_TEST(j.at("chat_template").as_string() == "phi3");
  BOOST_TEST(j.at("prompt").as_string() ==
             "<|system|>\nbe brief<|end|>\n<|user|>\nhello<|end|>\n<|assistant|>\n");
  const json::array& pieces = j.at("pieces").as_array();
  BOOST_TEST(pieces.at(0).as_string() == "<s>");  // the SentencePiece vocabulary adds BOS
  BOOST_TEST(std::count(pieces.begin(), pieces.end(), json::value("<|end|>")) == 2);

  Run forced = run_cli("tokenize " + model + " --chat-template chatml --json --text hi");
  BOOST_TEST(contains(forced.out, "\"chat_template\":\"chatml\""), forced.out);

  Run lines =
      run_cli("tokenize " + model + " --chat --jsonl",
              "printf '%s\\n' '{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}' |");
  BOOST_TEST(lines.exit_code == 0, lines.out);
  BOOST_TEST(contains(lines.out, "{\"ids\":[1,"), lines.out);

  Run role = run_cli("tokenize " + model + " --chat --jsonl",
                     "echo '{\"messages\": [{\"role\": \"tool\", \"content\": \"x\"}]}' |");
  BOOST_TEST(role.exit_code == 1);
  BOOST_TEST(contains(role.out, "message 1 has role 'tool'"), role.out);
  Run unknown = run_cli("tokenize " + model + " --chat-template alpaca --text x");
  BOOST_TEST(unknown.exit_code == 1);
  BOOST_TEST(contains(unknown.out, "unknown chat template 'alpaca'; choose one of llama3"),
             unknown.out);
  BOOST_TEST(run_cli("tokenize " + model + " --system x --text y").exit_code == 2);
  BOOST_TEST(run_cli("tokenize " + model + " --chat --system x --jsonl", "true |").exit_code == 2);
  std::filesystem::remove(path);
}

BOOST_AUTO_TEST_SUITE_END()
