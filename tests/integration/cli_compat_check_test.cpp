// `bitnet compat-check` (and `bitnet inspect`) on random models of every architecture the
// runtime knows, as the generator writes them and with one thing broken at a time. The
// backends are the real installed plugins (cpu-generic in the build tree).
#include <bitnet/runtime/gguf/reader.hpp>
#include <bitnet/runtime/gguf/writer.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <functional>

#include "cli_runner.hpp"
#include "random_model.hpp"

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace bitnet_test;
using bitnet::gguf::Value;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/bitnet-compat-XXXXXX";
    BOOST_REQUIRE(mkdtemp(tmpl));
    path = tmpl;
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string write_model(const fs::path& path, const bitnet::testing::RandomModelOptions& o) {
  return write_random_model(path, o);
}

struct Edits {
  std::function<void(bitnet::gguf::Writer&)> metadata = [](bitnet::gguf::Writer&) {};
  std::string drop_tensor = {};
  std::string drop_key = {};
};

// Copies `from` to `to` with one change, to make a file that is broken in one known way.
std::string rewrite(const fs::path& from, const fs::path& to, const Edits& e) {
  auto r = bitnet::gguf::Reader::open(from);
  BOOST_REQUIRE(r);
  bitnet::gguf::Writer w;
  for (const auto& kv : r->metadata())
    if (kv.key != e.drop_key) w.set(kv.key, kv.value);
  e.metadata(w);
  for (const auto& t : r->tensors()) {
    if (t.name == e.drop_tensor) continue;
    const auto d = r->data(t);
    BOOST_REQUIRE(w.add_tensor(t.name, t.type, {t.ne.begin(), t.ne.begin() + t.n_dims},
                               {d.begin(), d.end()}));
  }
  BOOST_REQUIRE(w.write(to));
  return to.string();
}

// The verdict of the check named `name` in compat-check's JSON.
std::string verdict(const json::value& report, std::string_view name) {
  for (const json::value& c : report.at("checks").as_array())
    if (c.at("check").as_string() == name) return std::string(c.at("verdict").as_string());
  return "absent";
}

std::string detail(const json::value& report, std::string_view name) {
  for (const json::value& c : report.at("checks").as_array())
    if (c.at("check").as_string() == name) return std::string(c.at("detail").as_string());
  return "";
}

json::value check_json(const std::string& model, int expected_exit) {
  Run r = run_cli("compat-check --json '" + model + "'");
  BOOST_TEST(r.exit_code == expected_exit, r.out);
  const auto nl = r.out.find('\n');
  return json::parse(r.out.substr(0, nl));
}

const char* const kArchs[] = {"llama", "bitnet-b1.58", "qwen2", "phi3"};

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_compat_check)

BOOST_AUTO_TEST_CASE(every_architecture_passes_and_inspects) {
  TempDir dir;
  for (const char* arch : kArchs) {
    BOOST_TEST_CONTEXT(arch) {
      const std::string model =
          write_model(dir.path / (std::string(arch) + ".gguf"), {.arch = arch});
      Run r = run_cli("compat-check '" + model + "'");
      BOOST_TEST(r.exit_code == 0, r.out);
      BOOST_TEST(contains(r.out, ": PASS (0 failed, 0 warned, 9 passed)"), r.out);
      BOOST_TEST(contains(r.out, "PASS  architecture       " + std::string(arch)), r.out);
      const json::value j = check_json(model, 0);
      BOOST_TEST(j.at("result").as_string() == "PASS");
      BOOST_TEST(j.at("checks").as_array().size() == 9u);

      Run inspect = run_cli("inspect --json '" + model + "'");
      BOOST_TEST(inspect.exit_code == 0, inspect.out);
      const json::value ij = json::parse(inspect.out.substr(0, inspect.out.find('\n')));
      BOOST_TEST(ij.at("metadata").as_array().at(0).at("value").as_string() == arch);
      BOOST_TEST(run_cli("inspect --ln-stats '" + model + "'").exit_code == 0);
    }
  }
}

BOOST_AUTO_TEST_CASE(untied_output_and_quantised_weights_are_checked_against_backends) {
  TempDir dir;
  // The CPU backends run I2_S weights and the F16 embedding (the 2B4T file's mix), no Q5_0.
  const std::string ternary =
      write_model(dir.path / "bitnet-i2s.gguf", {.arch = "bitnet-b1.58",
                                                 .weight_type = BITNET_TYPE_I2_S,
                                                 .embedding_type = BITNET_TYPE_F16,
                                                 .n_embd = 128,
                                                 .n_ff = 256});
  const json::value t = check_json(ternary, 0);
  BOOST_TEST(contains(detail(t, "tensor types"), "I2_S (14 tensors: "));
  BOOST_TEST(contains(detail(t, "tensor types"), "cpu-generic"));
  BOOST_TEST(contains(detail(t, "tensor types"), "F16 (1 tensor: "));
  const std::string model =
      write_model(dir.path / "llama-q5.gguf", {.arch = "llama", .weight_type = BITNET_TYPE_Q5_0});
  const json::value j = check_json(model, 1);
  BOOST_TEST(verdict(j, "tensor types") == "FAIL");
  BOOST_TEST(contains(detail(j, "tensor types"), "Q5_0 (14 tensors, e.g. blk.0.attn_q.weight)"));
  BOOST_TEST(verdict(j, "tensor shapes") == "PASS");

  const std::string untied =
      write_model(dir.path / "phi3-untied.gguf", {.arch = "phi3", .tied_output = false});
  const json::value u = check_json(untied, 0);
  BOOST_TEST(!contains(detail(u, "tensors present"), "tied"));
  BOOST_TEST(contains(detail(u, "tensor types"), "F32 (10 tensors: "));
}

BOOST_AUTO_TEST_CASE(broken_files_fail_the_right_check) {
  TempDir dir;
  const fs::path good = write_model(dir.path / "good.gguf", {.arch = "qwen2"});
  {
    const json::value j = check_json(
        rewrite(good, dir.path / "missing.gguf", {.drop_tensor = "blk.1.attn_k.bias"}), 1);
    BOOST_TEST(verdict(j, "tensors present") == "FAIL");
    BOOST_TEST(contains(detail(j, "tensors present"),
                        "1 of 26 required tensors missing: blk.1.attn_k.bias"));
  }
  {
    const json::value j =
        check_json(rewrite(good, dir.path / "shape.gguf",
                           {.metadata =
                                [](auto& w) {
                                  w.set("qwen2.feed_forward_length",
                                        Value::of(bitnet::gguf::ValueType::u32, uint64_t{96}));
                                }}),
                   1);
    BOOST_TEST(verdict(j, "tensor shapes") == "FAIL");
    BOOST_TEST(contains(detail(j, "tensor shapes"),
                        "blk.0.ffn_gate.weight is [64, 128], expected [64, 96]"));
  }
  {
    const json::value j =
        check_json(rewrite(good, dir.path / "heads.gguf",
                           {.metadata =
                                [](auto& w) {
                                  w.set("qwen2.attention.head_count",
                                        Value::of(bitnet::gguf::ValueType::u32, uint64_t{5}));
                                },
                            .drop_key = "qwen2.attention.layer_norm_rms_epsilon"}),
                   1);
    BOOST_TEST(verdict(j, "hyperparameters") == "FAIL");
    const std::string d = detail(j, "hyperparameters");
    BOOST_TEST(contains(d, "qwen2.attention.layer_norm_rms_epsilon is missing"), d);
    BOOST_TEST(contains(d, "head_count (5) is not a multiple of attention.head_count_kv (2)"), d);
    BOOST_TEST(contains(d, "embedding_length (64) is not a multiple of attention.head_count (5)"),
               d);
    BOOST_TEST(verdict(j, "tensor shapes") == "absent");  // nothing to compare shapes with
    BOOST_TEST(verdict(j, "tokenizer") == "PASS");
  }
  {
    const json::value j = check_json(
        rewrite(
            good, dir.path / "arch.gguf",
            {.metadata = [](auto& w) { w.set("general.architecture", Value::string("gptj")); }}),
        1);
    BOOST_TEST(verdict(j, "architecture") == "FAIL");
    BOOST_TEST(contains(
        detail(j, "architecture"),
        "'gptj' is not an architecture this runtime knows (llama, bitnet-b1.58, qwen2, phi3)"));
  }
  {
    const json::value j =
        check_json(rewrite(good, dir.path / "bos.gguf",
                           {.metadata =
                                [](auto& w) {
                                  w.set("tokenizer.ggml.bos_token_id",
                                        Value::of(bitnet::gguf::ValueType::u32, uint64_t{100000}));
                                }}),
                   1);
    BOOST_TEST(verdict(j, "tokenizer") == "FAIL");
    BOOST_TEST(contains(detail(j, "tokenizer"),
                        "tokenizer.ggml.bos_token_id is 100000, not a token id below 278"));
  }
  {
    const json::value j =
        check_json(rewrite(good, dir.path / "extra.gguf",
                           {.metadata =
                                [](auto& w) {
                                  w.set("qwen2.block_count",
                                        Value::of(bitnet::gguf::ValueType::u32, uint64_t{1}));
                                }}),
                   0);
    BOOST_TEST(verdict(j, "unexpected tensors") == "WARN");
    BOOST_TEST(contains(detail(j, "unexpected tensors"),
                        "12 tensors the qwen2 architecture does not use"));
    BOOST_TEST(j.at("result").as_string() == "WARN");
  }
}

BOOST_AUTO_TEST_CASE(tokenizer_is_looked_for_beside_a_model_without_one) {
  TempDir dir;
  const std::string model =
      write_model(dir.path / "bare.gguf", {.arch = "llama", .embed_tokenizer = false});
  json::value j = check_json(model, 1);
  BOOST_TEST(verdict(j, "tokenizer") == "FAIL");
  BOOST_TEST(contains(detail(j, "tokenizer"), "put the model's tokenizer.json beside it"));

  const std::string with_repo =
      rewrite(model, dir.path / "hub.gguf", {.metadata = [](auto& w) {
                w.set("general.source.huggingface.repository", Value::string("org/model"));
              }});
  j = check_json(with_repo, 0);
  BOOST_TEST(verdict(j, "tokenizer") == "WARN");
  BOOST_TEST(contains(detail(j, "tokenizer"), "repository 'org/model'"));

  std::ofstream(dir.path / "tokenizer.json") << "{}";
  j = check_json(model, 0);
  BOOST_TEST(verdict(j, "tokenizer") == "PASS");
  BOOST_TEST(contains(detail(j, "tokenizer"), (dir.path / "tokenizer.json").string()));
}

BOOST_AUTO_TEST_CASE(unreadable_file_is_one_failed_check) {
  TempDir dir;
  const fs::path model = write_model(dir.path / "m.gguf", {.arch = "phi3"});
  fs::resize_file(model, 2000);
  Run r = run_cli("compat-check '" + model.string() + "'");
  BOOST_TEST(r.exit_code == 1, r.out);
  BOOST_TEST(contains(r.out, "FAIL  file"), r.out);
  BOOST_TEST(contains(r.out, "at byte"), r.out);
  Run missing = run_cli("compat-check '" + (dir.path / "nope.gguf").string() + "'");
  BOOST_TEST(missing.exit_code == 1, missing.out);
  BOOST_TEST(contains(missing.out, "nope.gguf"), missing.out);
  BOOST_TEST(run_cli("compat-check").exit_code == 2);
}

BOOST_AUTO_TEST_SUITE_END()
