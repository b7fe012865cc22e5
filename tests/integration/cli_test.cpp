// The `bitnet` executable as a user runs it: exit codes, help, and `plugins --json`.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

#include "cli_runner.hpp"

namespace json = boost::json;
using namespace bitnet_test;

BOOST_AUTO_TEST_SUITE(cli)

BOOST_AUTO_TEST_CASE(version_and_help) {
  Run v = run_cli("--version");
  BOOST_TEST(v.exit_code == 0);
  BOOST_TEST((contains(v.out, "bitnet 0.") && contains(v.out, "plugin ABI 1.3")), v.out);
  Run h = run_cli("--help");
  BOOST_TEST(h.exit_code == 0);
  BOOST_TEST(contains(h.out, "plugins"), h.out);
  Run ph = run_cli("plugins --help");
  BOOST_TEST(ph.exit_code == 0);
  BOOST_TEST(contains(ph.out, "--json"), ph.out);
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_2_with_a_hint) {
  Run none = run_cli("");
  BOOST_TEST(none.exit_code == 2);
  BOOST_TEST(contains(none.out, "no command given"), none.out);
  Run unknown = run_cli("frobnicate");
  BOOST_TEST(unknown.exit_code == 2);
  BOOST_TEST(contains(unknown.out, "unknown command 'frobnicate'"), unknown.out);
  Run bad_option = run_cli("plugins --no-such-option");
  BOOST_TEST(bad_option.exit_code == 2);
  BOOST_TEST(contains(bad_option.out, "bitnet plugins --help"), bad_option.out);
  Run bad_level = run_cli("--log loud plugins");
  BOOST_TEST(bad_level.exit_code == 2);
}

BOOST_AUTO_TEST_CASE(plugins_json_lists_loaded_and_rejected) {
  const std::string env = "BITNET_PLUGIN_PATH='" BITNET_TEST_PLUGIN_DIR
                          "/other-major:" BITNET_TEST_PLUGIN_DIR "/score-zero'";
  Run r = run_cli("plugins --json", env + " BITNET_LOG=debug");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  // The first line is the JSON document; the debug log follows it from stderr.
  const json::object doc = json::parse(r.out.substr(0, r.out.find('\n'))).as_object();
  BOOST_TEST(contains(r.out, "bitnet: debug plugins: skipped"), r.out);
  BOOST_TEST(doc.at("abi").as_string() == "1.3");
  std::map<std::string, json::object> by_name;
  for (const auto& p : doc.at("plugins").as_array())
    by_name[std::string(p.at("name").as_string())] = p.as_object();

  BOOST_REQUIRE(by_name.count("cpu-generic"));
  const json::object& cpu = by_name["cpu-generic"];
  BOOST_TEST(cpu.at("status").as_string() == "loaded");
  BOOST_TEST(cpu.at("kind").as_string() == "backend");
  BOOST_TEST(cpu.at("abi").as_string() == "1.3");
  BOOST_TEST(cpu.at("score").as_int64() == 1);
  const auto& ops = cpu.at("capabilities").at("ops").as_object();
  BOOST_TEST(ops.at("MUL_MAT").as_array().at(0).as_string() == "F32");

  BOOST_REQUIRE(by_name.count("other-major"));
  BOOST_TEST(by_name["other-major"].at("status").as_string() == "rejected");
  BOOST_TEST(by_name["other-major"].at("abi").is_null());
  BOOST_TEST(
      contains(std::string(by_name["other-major"].at("reason").as_string()), "built for ABI 2.0"));
  BOOST_REQUIRE(by_name.count("score-zero"));
  BOOST_TEST(by_name["score-zero"].at("reason").as_string() ==
             "score 0 on this machine: needs the frobnicator");
}

BOOST_AUTO_TEST_CASE(plugins_text_says_why_each_was_rejected) {
  Run r = run_cli("plugins", "BITNET_PLUGIN_PATH='" BITNET_TEST_PLUGIN_DIR "/missing-init'");
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(contains(r.out, "cpu-generic  backend"), r.out);
  BOOST_TEST(contains(r.out, "rejected: missing entry point bitnet_plugin_init"), r.out);
}

BOOST_AUTO_TEST_SUITE_END()
