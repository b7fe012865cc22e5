// `bitnet serve` driven by the official openai npm client (tests/server/openai_client.cjs),
// installed by the integration.fetch_openai fixture. Without it (npm or its registry out of
// reach) the test says so and CTest reports it skipped.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <iostream>

#include "cli_runner.hpp"
#include "random_model.hpp"
#include "server_process.hpp"

using namespace bitnet_test;

BOOST_AUTO_TEST_SUITE(server_openai)

BOOST_AUTO_TEST_CASE(official_client_end_to_end) {
  const std::filesystem::path module =
      std::filesystem::path(BITNET_OPENAI_DIR) / "node_modules" / "openai";
  if (!std::filesystem::exists(module / "package.json")) {
    std::cout << "SKIPPED: the openai npm package is unavailable (" << module.string()
              << " is missing: npm or its registry was out of reach when "
                 "integration.fetch_openai ran)"
              << std::endl;
    return;
  }
  const auto model = std::filesystem::temp_directory_path() / "bitnet-server-openai.gguf";
  auto w = bitnet::testing::random_model({.arch = "bitnet-b1.58",
                                          .weight_type = BITNET_TYPE_I2_S,
                                          .embedding_type = BITNET_TYPE_F16,
                                          .n_embd = 128,
                                          .n_ff = 256,
                                          .n_ctx = 512});
  BOOST_REQUIRE(w.has_value());
  BOOST_REQUIRE(w->write(model));
  const std::string key = "sk-openai-test-1b2c";
  ServerProcess s("--model '" + model.string() + "' --parallel 2", "BITNET_API_KEY=" + key);
  const auto [code, out] =
      run_command("OPENAI_MODULE='" + module.string() +
                  "' node '" BITNET_SERVER_TEST_DIR "/openai_client.cjs' http://127.0.0.1:" +
                  std::to_string(s.port()) + " " + key);
  std::cout << out;
  BOOST_TEST(code == 0, out);
  BOOST_TEST(contains(out, "checks passed"), out);
  BOOST_TEST(s.stop() == 0, s.log());
  BOOST_TEST(!contains(s.log(), key));
}

BOOST_AUTO_TEST_SUITE_END()
