// `bitnet inspect` on files the GGUF writer makes, and on hostile ones.
#include <bitnet/types.h>
#include <bitnet/runtime/gguf/writer.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "cli_runner.hpp"

namespace json = boost::json;
using namespace bitnet_test;

namespace {

// A small llama-shaped file with 4 layers of norm weights; layer 2's attn_norm is 56x too
// large, as in the BitNet conversions that motivated --ln-stats.
std::string write_norm_model(const std::filesystem::path& path) {
  using namespace bitnet::gguf;
  Writer w;
  w.set("general.architecture", Value::string("llama"));
  std::vector<Value> tokens;
  for (int i = 0; i < 100; ++i)
    tokens.push_back(Value::string("tok" + std::to_string(i)));
  w.set("tokenizer.ggml.tokens", Value::array(ValueType::string, std::move(tokens)));
  auto floats = [](float v, int n) {
    std::vector<std::byte> b(4 * n);
    for (int i = 0; i < n; ++i)
      std::memcpy(b.data() + 4 * i, &v, 4);
    return b;
  };
  for (int l = 0; l < 4; ++l) {
    const std::string blk = "blk." + std::to_string(l) + ".";
    BOOST_REQUIRE(w.add_tensor(blk + "attn_norm.weight", BITNET_TYPE_F32, {64},
                               floats(l == 2 ? 56.f : 1.f, 64)));
    BOOST_REQUIRE(w.add_tensor(blk + "ffn_norm.weight", BITNET_TYPE_F32, {64}, floats(0.5f, 64)));
  }
  BOOST_REQUIRE(w.add_tensor("token_embd.weight", BITNET_TYPE_Q8_0, {64, 100},
                             std::vector<std::byte>(34 * 2 * 100)));
  BOOST_REQUIRE(w.write(path));
  return path.string();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_inspect)

BOOST_AUTO_TEST_CASE(text_lists_metadata_tensors_and_totals) {
  const auto path = std::filesystem::temp_directory_path() / "bitnet-cli-inspect.gguf";
  const std::string model = write_norm_model(path);
  Run r = run_cli("inspect '" + model + "'");
  BOOST_TEST(r.exit_code == 0, r.out);
  BOOST_TEST(contains(r.out, "GGUF v3"), r.out);
  BOOST_TEST(contains(r.out, "general.architecture"), r.out);
  BOOST_TEST(contains(r.out, "... (100 string items)]"), r.out);  // long arrays summarised
  BOOST_TEST(contains(r.out, "token_embd.weight"), r.out);
  BOOST_TEST(contains(r.out, "[64, 100]"), r.out);
  BOOST_TEST(contains(r.out, "Q8_0   1 tensors, 6400 elements"), r.out);
  Run all = run_cli("inspect --all '" + model + "'");
  BOOST_TEST(contains(all.out, "\"tok99\""), all.out);
  std::filesystem::remove(path);
}

BOOST_AUTO_TEST_CASE(ln_stats_flags_the_layer_far_from_the_rest) {
  const auto path = std::filesystem::temp_directory_path() / "bitnet-cli-lnstats.gguf";
  const std::string model = write_norm_model(path);
  Run r = run_cli("inspect --json --ln-stats '" + model + "'");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  const json::object doc = json::parse(r.out.substr(0, r.out.find('\n'))).as_object();
  size_t outliers = 0;
  for (const auto& s : doc.at("ln_stats").as_array()) {
    const bool outlier = s.at("outlier").as_bool();
    outliers += outlier;
    if (outlier) {
      BOOST_TEST(s.at("tensor").as_string() == "blk.2.attn_norm.weight");
      BOOST_TEST(s.at("layer").as_int64() == 2);
      BOOST_TEST(std::abs(s.at("rms").as_double() - 56.0) < 1e-9);
      BOOST_TEST(std::abs(s.at("ratio_to_median").as_double() - 56.0) < 1e-9);
    }
  }
  BOOST_TEST(outliers == 1u);
  BOOST_TEST(doc.at("totals").at("F32").at("tensors").as_int64() == 8);
  std::filesystem::remove(path);
}

BOOST_AUTO_TEST_CASE(hostile_file_is_exit_1_with_field_and_offset) {
  const auto path = std::filesystem::temp_directory_path() / "bitnet-cli-hostile.gguf";
  {
    std::ofstream f(path, std::ios::binary);
    const uint32_t head[] = {0x46554747, 3};
    const uint64_t counts[] = {uint64_t{1} << 62, 0};
    f.write(reinterpret_cast<const char*>(head), sizeof head);
    f.write(reinterpret_cast<const char*>(counts), sizeof counts);
  }
  Run r = run_cli("inspect '" + path.string() + "'");
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.out, "tensor count at byte 8"), r.out);
  Run missing = run_cli("inspect /nonexistent/model.gguf");
  BOOST_TEST(missing.exit_code == 1);
  BOOST_TEST(contains(missing.out, "/nonexistent/model.gguf: cannot open: No such file"),
             missing.out);
  Run usage = run_cli("inspect");
  BOOST_TEST(usage.exit_code == 2);
  std::filesystem::remove(path);
}

BOOST_AUTO_TEST_SUITE_END()
