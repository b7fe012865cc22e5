// `bitnet run` and `bitnet chat` as a user runs them, on generated models: JSON records,
// determinism across runs and thread counts, seeds, stop strings, the context check, a chat
// session with /reset, and usage errors.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>

#include "cli_runner.hpp"
#include "random_model.hpp"

namespace json = boost::json;
using namespace bitnet_test;

namespace {

std::string write_model(const std::string& name, bitnet::testing::RandomModelOptions o) {
  return "--model '" + write_random_model(std::filesystem::temp_directory_path() / name, o) + "'";
}

std::string bitnet_model() {
  return write_model("bitnet-cli-run-bitnet.gguf", {.arch = "bitnet-b1.58",
                                                    .weight_type = BITNET_TYPE_I2_S,
                                                    .embedding_type = BITNET_TYPE_F16,
                                                    .n_embd = 128,
                                                    .n_ff = 256,
                                                    .n_ctx = 128});
}

// The JSON record: the last stdout line that is an object.
json::object record(const Run& r) {
  size_t end = r.out.size();
  while (end > 0) {
    const size_t start = r.out.rfind('\n', end - 1);
    const size_t from = start == std::string::npos ? 0 : start + 1;
    if (r.out.compare(from, 2, "{\"") == 0)
      return json::parse(r.out.substr(from, end - from)).as_object();
    if (start == std::string::npos) break;
    end = start;
  }
  BOOST_FAIL("no JSON record in: " + r.out);
  return {};
}

std::vector<int64_t> ids(const json::object& o, const char* key) {
  std::vector<int64_t> out;
  for (const json::value& v : o.at(key).as_array())
    out.push_back(v.as_int64());
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_run)

BOOST_AUTO_TEST_CASE(json_record_and_streamed_text) {
  for (const std::string& model :
       {write_model("bitnet-cli-run-llama.gguf", {.arch = "llama"}), bitnet_model()}) {
    Run r = run_cli("run " + model + " --prompt 'hello world' --max-tokens 12 --greedy --json");
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.out);
    const json::object o = record(r);
    // The best-ranked backend runs unless told otherwise (cpu-avx2 outranks cpu-generic).
    BOOST_TEST(!o.at("backend").as_string().empty());
    BOOST_TEST(!o.at("prompt_ids").as_array().empty());
    const auto gen = ids(o, "generated_ids");
    BOOST_TEST(gen.size() >= 1u);
    BOOST_TEST(gen.size() <= 12u);
    BOOST_TEST((gen.size() == 12u) == (o.at("stop_reason").as_string() == "max_tokens"), r.out);
    // What was streamed is the record's text, then a newline.
    const std::string text(o.at("text").as_string());
    BOOST_TEST(r.out.compare(0, text.size() + 1, text + "\n") == 0, r.out);
    BOOST_TEST(o.at("timings").as_object().at("generated_tokens").as_int64() ==
               static_cast<int64_t>(gen.size()));
    BOOST_TEST(o.at("memory").as_object().at("kv_cache_bytes").as_int64() > 0);
    BOOST_TEST(o.at("memory").as_object().at("host_memory").as_bool());
  }
}

BOOST_AUTO_TEST_CASE(deterministic_across_runs_and_thread_counts) {
  const std::string model = bitnet_model();
  const std::string env = "BITNET_DETERMINISTIC=1";
  for (const std::string backend : {"", "--backend cpu-generic "}) {
    const std::string args =
        "run " + model + " --prompt 'the world' --max-tokens 16 --json " + backend;
    const json::object one = record(run_cli(args + "--threads 1", env));
    const json::object two = record(run_cli(args + "--threads 2", env));
    const json::object again = record(run_cli(args + "--threads 2", env));
    BOOST_TEST(ids(one, "generated_ids") == ids(two, "generated_ids"), backend);
    BOOST_TEST(ids(two, "generated_ids") == ids(again, "generated_ids"), backend);
    BOOST_TEST(one.at("text") == two.at("text"));
    BOOST_TEST(one.at("sampling").as_object().at("seed").to_number<uint64_t>() == 0u);
  }
}

BOOST_AUTO_TEST_CASE(seeds_choose_the_samples) {
  const std::string model = bitnet_model();
  const std::string args =
      "run " + model + " --prompt 'the' --max-tokens 24 --temperature 1.5 --top-k 0 --json ";
  const auto a = ids(record(run_cli(args + "--seed 5")), "generated_ids");
  BOOST_TEST(a == ids(record(run_cli(args, "BITNET_SEED=5")), "generated_ids"));
  BOOST_TEST(a != ids(record(run_cli(args + "--seed 6")), "generated_ids"));
}

BOOST_AUTO_TEST_CASE(stop_string_ends_the_text_before_it) {
  const std::string model = bitnet_model();
  const std::string args = "run " + model + " --prompt 'hello' --max-tokens 40 --greedy --json";
  const json::object full = record(run_cli(args));
  const std::string text(full.at("text").as_string());
  // A run of two printable ASCII characters from the middle of the text is the stop string.
  size_t at = std::string::npos;
  for (size_t i = text.size() / 3; i + 1 < text.size() && at == std::string::npos; ++i)
    if (std::isalnum(static_cast<unsigned char>(text[i])) &&
        std::isalnum(static_cast<unsigned char>(text[i + 1])))
      at = i;
  BOOST_TEST_REQUIRE(at != std::string::npos, "no ASCII pair in: " + text);
  const std::string stop = text.substr(at, 2);
  const Run r = run_cli(args + " --stop '" + stop + "'");
  const json::object cut = record(r);
  BOOST_TEST(cut.at("stop_reason").as_string() == "stop_string");
  BOOST_TEST(std::string(cut.at("text").as_string()) == text.substr(0, text.find(stop)), r.out);
}

BOOST_AUTO_TEST_CASE(context_length_is_checked_before_running) {
  const std::string model = bitnet_model();
  const Run r = run_cli("run " + model + " --prompt 'hello world' --ctx 16 --max-tokens 20");
  BOOST_TEST(r.exit_code == 1, r.out);
  BOOST_TEST(contains(r.out, "context length exceeded: "), r.out);
  BOOST_TEST(contains(r.out, " > 16"), r.out);
}

BOOST_AUTO_TEST_CASE(chat_turns_and_reset) {
  const std::string model = bitnet_model();
  // Sampling (seeded afresh each turn) makes replies depend on the conversation.
  const std::string args = "chat " + model + " --temperature 1.5 --top-k 0 --seed 3 --max-tokens 6";
  const Run fresh = run_cli(args, "printf 'the world\\n' |");
  BOOST_TEST_REQUIRE(fresh.exit_code == 0, fresh.out);
  const std::string reply = fresh.out.substr(0, fresh.out.find('\n'));
  // After /reset the same question gets the same answer as in a fresh session; the second
  // turn of a conversation (which reuses the cached prefix) runs too.
  const Run r =
      run_cli(args, "printf 'hello\\nand more\\n/reset\\nthe world\\n/exit\\nignored\\n' |");
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out);
  std::vector<std::string> lines;
  for (size_t at = 0, nl; (nl = r.out.find('\n', at)) != std::string::npos; at = nl + 1)
    lines.push_back(r.out.substr(at, nl - at));
  BOOST_TEST_REQUIRE(lines.size() >= 3u, r.out);
  BOOST_TEST(lines[2] == reply, r.out);
  BOOST_TEST(lines[0] != reply, r.out);
}

BOOST_AUTO_TEST_CASE(bad_input_is_a_clear_error) {
  const std::string model = bitnet_model();
  Run r = run_cli("run " + model);
  BOOST_TEST(r.exit_code == 2, r.out);
  BOOST_TEST(contains(r.out, "--prompt"), r.out);
  r = run_cli("run " + model + " --prompt x --top-p 0");
  BOOST_TEST(r.exit_code == 2, r.out);
  BOOST_TEST(contains(r.out, "--top-p"), r.out);
  r = run_cli("run " + model + " --prompt x --backend no-such-backend");
  BOOST_TEST(r.exit_code == 1, r.out);
  BOOST_TEST(contains(r.out, "no-such-backend"), r.out);
  r = run_cli("run --model /nonexistent/m.gguf --prompt x");
  BOOST_TEST(r.exit_code == 1, r.out);
  BOOST_TEST(contains(r.out, "/nonexistent/m.gguf"), r.out);
  r = run_cli("run " + model + " --prompt x", "BITNET_SEED=abc");
  BOOST_TEST(r.exit_code == 2, r.out);
  BOOST_TEST(contains(r.out, "BITNET_SEED"), r.out);
}

BOOST_AUTO_TEST_SUITE_END()
