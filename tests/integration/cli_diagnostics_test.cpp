// The diagnostics tools as a user runs them, on generated models with the real CPU plugins and
// `faulty` (tests/plugins/faulty_backend.cpp: cpu-generic with the node BITNET_TEST_FAULT names
// made wrong): verify's checks failing one at a time, traces and their diff, crossval against
// another backend and against a logits file, and receipts.
#include <bitnet/runtime/diagnostics/sha256.hpp>
#include <bitnet/runtime/gguf/reader.hpp>
#include <bitnet/runtime/tokenizer/byte_level.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cli_runner.hpp"
#include "hf_checkpoint.hpp"
#include "random_model.hpp"

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace bitnet_test;

namespace {

const std::string kFaulty = "BITNET_PLUGIN_PATH='" BITNET_TEST_PLUGIN_DIR "/faulty'";

std::string fault(const std::string& spec) {
  return kFaulty + " BITNET_TEST_FAULT=" + spec;
}

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/bitnet-diagnostics-XXXXXX";
    BOOST_REQUIRE(mkdtemp(tmpl));
    path = tmpl;
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

// Four layers, so a layer's norm has siblings to be compared with, and a fault in layer 1 is
// not the first layer by accident.
std::string write_model(const TempDir& dir, const std::string& name,
                        bitnet::testing::RandomModelOptions o = {.arch = "bitnet-b1.58",
                                                                 .weight_type = BITNET_TYPE_I2_S,
                                                                 .embedding_type = BITNET_TYPE_F16,
                                                                 .n_embd = 128,
                                                                 .n_layer = 4,
                                                                 .n_ff = 256,
                                                                 .n_ctx = 128}) {
  return write_random_model(dir / name, o);
}

// Multiplies an F32 tensor of the file in place.
void scale_tensor(const std::string& path, const std::string& name, float factor) {
  size_t at = 0, n = 0;
  {
    auto r = bitnet::gguf::Reader::open(path);
    BOOST_REQUIRE(r.has_value());
    const bitnet::gguf::TensorInfo* t = r->tensor(name);
    BOOST_REQUIRE(t && t->type == BITNET_TYPE_F32);
    at = r->data_offset() + t->offset;
    n = t->bytes / 4;
  }
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  std::vector<float> v(n);
  f.seekg(static_cast<std::streamoff>(at));
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * 4));
  for (float& x : v)
    x *= factor;
  f.seekp(static_cast<std::streamoff>(at));
  f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(n * 4));
  BOOST_REQUIRE(f.good());
}

// A byte-level BPE tokenizer.json of another model: the 256 byte tokens, `fillers` more, then
// <s> and </s>.
std::string write_foreign_tokenizer(const TempDir& dir, const std::string& name, int fillers) {
  json::object vocab;
  const auto& chars = bitnet::tok::byte_to_char();
  for (size_t b = 0; b < chars.size(); ++b)
    vocab[chars[b]] = b;
  for (int i = 0; i < fillers; ++i)
    vocab["filler" + std::to_string(i)] = vocab.size();
  const json::object tokenizer = byte_level_tokenizer_json(std::move(vocab), {});
  fs::create_directories(dir.path / name);
  std::ofstream(dir.path / name / "tokenizer.json") << json::serialize(tokenizer);
  std::ofstream(dir.path / name / "tokenizer_config.json")
      << json::serialize(json::object{{"bos_token", "<s>"}, {"eos_token", "</s>"}});
  return (dir.path / name / "tokenizer.json").string();
}

// The JSON object on stdout (the commands print one line of it first).
json::object parse_json(const Run& r) {
  const size_t start = r.out.find("{\"");
  BOOST_REQUIRE_MESSAGE(start != std::string::npos, "no JSON in: " + r.out);
  return json::parse(r.out.substr(start, r.out.find('\n', start) - start)).as_object();
}

const json::object& check(const json::object& report, std::string_view name) {
  for (const json::value& c : report.at("checks").as_array())
    if (c.at("check").as_string() == name) return c.as_object();
  BOOST_FAIL("no check named " + std::string(name) + " in " + json::serialize(report));
  throw std::logic_error("unreachable");
}

std::string verdict(const json::object& report, std::string_view name) {
  return std::string(check(report, name).at("verdict").as_string());
}

std::string detail(const json::object& report, std::string_view name) {
  return std::string(check(report, name).at("detail").as_string());
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<json::object> trace_records(const fs::path& dir) {
  std::vector<json::object> out;
  std::ifstream in(dir / "trace.jsonl");
  for (std::string line; std::getline(in, line);)
    out.push_back(json::parse(line).as_object());
  return out;
}

std::string layer_of(const json::object& o) {
  return o.at("layer").is_null() ? "-" : std::to_string(o.at("layer").as_int64());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_verify)

BOOST_AUTO_TEST_CASE(a_healthy_model_passes_every_check) {
  TempDir dir;
  const std::string model = write_model(dir, "m.gguf");
  Run r = run_cli("verify --model '" + model + "' --json");
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out);
  const json::object j = parse_json(r);
  BOOST_TEST(j.at("result").as_string() == "PASS", r.out);
  BOOST_TEST(j.at("checks").as_array().size() == 10u);
  for (const char* name :
       {"file", "model", "tensor types", "norm weights", "vocabulary", "special tokens",
        "prompt BOS", "non-finite values", "logits", "repetition"})
    BOOST_TEST(verdict(j, name) == "PASS", name << ": " << r.out);
  BOOST_TEST(detail(j, "tensor types").find("I2_S") != std::string::npos, r.out);

  // The deployment health check: one token, the same lines as text.
  Run quick = run_cli("verify --model '" + model + "' --max-tokens 1");
  BOOST_TEST(quick.exit_code == 0, quick.out);
  BOOST_TEST(contains(quick.out, "PASS  non-finite values"), quick.out);
  BOOST_TEST(contains(quick.out, "1 token generated"), quick.out);
  BOOST_TEST(contains(quick.out, ": PASS (0 failed, 0 warned, 10 passed)"), quick.out);
}

BOOST_AUTO_TEST_CASE(a_nan_from_an_op_fails_naming_the_op) {
  TempDir dir;
  const std::string model = write_model(dir, "m.gguf");
  Run r = run_cli("verify --model '" + model + "' --backend faulty --max-tokens 2 --json",
                  fault("blk.1.attn_output=nan"));
  BOOST_TEST(r.exit_code == 1, r.out);
  const json::object j = parse_json(r);
  BOOST_TEST(verdict(j, "non-finite values") == "FAIL", r.out);
  BOOST_TEST(contains(detail(j, "non-finite values"), "at position 0, layer 1 attn_output"), r.out);
  BOOST_TEST(verdict(j, "model") == "PASS", r.out);
  BOOST_TEST(contains(detail(j, "model"), "on faulty"), r.out);
}

BOOST_AUTO_TEST_CASE(norm_weights_off_warn_then_fail) {
  TempDir dir;
  const std::string warn = write_model(dir, "warn.gguf");
  scale_tensor(warn, "blk.2.attn_norm.weight", 8);
  Run r = run_cli("verify --model '" + warn + "' --max-tokens 1 --json");
  BOOST_TEST(r.exit_code == 0, r.out);
  BOOST_TEST(verdict(parse_json(r), "norm weights") == "WARN", r.out);
  BOOST_TEST(contains(detail(parse_json(r), "norm weights"), "blk.2.attn_norm.weight"), r.out);

  const std::string bad = write_model(dir, "fail.gguf");
  scale_tensor(bad, "blk.2.attn_norm.weight", 56);
  r = run_cli("verify --model '" + bad + "' --max-tokens 1 --json");
  BOOST_TEST(r.exit_code == 1, r.out);
  BOOST_TEST(verdict(parse_json(r), "norm weights") == "FAIL", r.out);
  BOOST_TEST(contains(detail(parse_json(r), "norm weights"), "blk.2.attn_norm.weight"), r.out);

  // A zeroed output norm: every logit equal.
  const std::string zero = write_model(dir, "zero.gguf");
  scale_tensor(zero, "output_norm.weight", 0);
  r = run_cli("verify --model '" + zero + "' --max-tokens 1 --json");
  BOOST_TEST(r.exit_code == 1, r.out);
  const json::object j = parse_json(r);
  BOOST_TEST(contains(detail(j, "norm weights"), "output_norm.weight is all zeros"), r.out);
  BOOST_TEST(verdict(j, "logits") == "FAIL", r.out);
  BOOST_TEST(contains(detail(j, "logits"), "every logit"), r.out);
}

BOOST_AUTO_TEST_CASE(a_tokenizer_of_another_model_fails) {
  TempDir dir;
  const std::string model = write_model(dir, "m.gguf");  // 280 tokens
  const std::string smaller = write_foreign_tokenizer(dir, "small", 10);
  Run r =
      run_cli("verify --model '" + model + "' --tokenizer '" + smaller + "' --max-tokens 1 --json");
  BOOST_TEST(r.exit_code == 1, r.out);
  json::object j = parse_json(r);
  BOOST_TEST(verdict(j, "vocabulary") == "FAIL", r.out);
  BOOST_TEST(contains(detail(j, "vocabulary"), "differ (first: id "), r.out);
  BOOST_TEST(verdict(j, "special tokens") == "FAIL", r.out);
  BOOST_TEST(contains(detail(j, "special tokens"), "the model file says bos is 275"), r.out);

  const std::string larger = write_foreign_tokenizer(dir, "large", 100);
  r = run_cli("verify --model '" + model + "' --tokenizer '" + larger + "' --max-tokens 1 --json");
  BOOST_TEST(r.exit_code == 1, r.out);
  j = parse_json(r);
  BOOST_TEST(contains(detail(j, "vocabulary"), "358 tokens, 280 embedding rows: ids from 280"),
             r.out);
}

BOOST_AUTO_TEST_CASE(a_duplicate_bos_warns) {
  TempDir dir;
  const std::string model = write_model(dir, "llama.gguf", {.arch = "llama"});
  Run r = run_cli("verify --model '" + model +
                  "' --prompt '<s>hello world' --parse-special --max-tokens 1 --json");
  BOOST_TEST(r.exit_code == 0, r.out);
  BOOST_TEST(verdict(parse_json(r), "prompt BOS") == "WARN", r.out);
  BOOST_TEST(contains(detail(parse_json(r), "prompt BOS"), "twice"), r.out);
  // Without --parse-special the text stays text, as `bitnet run` keeps it.
  r = run_cli("verify --model '" + model + "' --prompt '<s>hello world' --max-tokens 1 --json");
  BOOST_TEST(verdict(parse_json(r), "prompt BOS") == "PASS", r.out);
}

BOOST_AUTO_TEST_CASE(a_missing_file_and_usage_errors) {
  Run r = run_cli("verify --model /nonexistent/m.gguf");
  BOOST_TEST(r.exit_code == 1, r.out);
  BOOST_TEST(contains(r.out, "FAIL  file"), r.out);
  BOOST_TEST(run_cli("verify --max-tokens 0").exit_code == 2);
  BOOST_TEST(run_cli("verify --threads 0").exit_code == 2);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cli_trace)

BOOST_AUTO_TEST_CASE(trace_diff_points_at_the_wrong_op) {
  TempDir dir;
  const std::string model = write_model(dir, "m.gguf");
  const std::string run = "run --model '" + model + "' --prompt 'hello world' -n 3 --greedy ";
  const std::string env = fault("blk.1.ffn_act=scale");
  for (const std::string values : {"", "--trace-values"}) {
    BOOST_TEST_CONTEXT(values) {
      const std::string a = dir / ("good" + values), b = dir / ("bad" + values);
      BOOST_TEST_REQUIRE(
          run_cli(run + "--backend cpu-generic --trace '" + a + "' " + values, env).exit_code == 0);
      BOOST_TEST_REQUIRE(
          run_cli(run + "--backend faulty --trace '" + b + "' " + values, env).exit_code == 0);
      Run d = run_cli("trace diff '" + a + "' '" + b + "' --json");
      BOOST_TEST(d.exit_code == 1, d.out);
      const json::object j = parse_json(d);
      BOOST_TEST(j.at("compared_by").as_string() == (values.empty() ? "statistics" : "values"));
      BOOST_TEST(j.at("only_in_a").as_int64() == 0);
      const json::object& first = j.at("first").as_object();
      BOOST_TEST(first.at("position").as_int64() == 0, d.out);
      BOOST_TEST(first.at("layer").as_int64() == 1, d.out);
      BOOST_TEST(first.at("op").as_string() == "ffn_act", d.out);
      // Layers 1, 2 and 3 at position 0 (the prompt's first token has no logits).
      const json::array& layers = j.at("layers").as_array();
      BOOST_REQUIRE(layers.size() == 3u);
      for (int64_t l = 0; l < 3; ++l) {
        BOOST_TEST(layers[static_cast<size_t>(l)].at("layer").as_int64() == l + 1);
        BOOST_TEST(layers[static_cast<size_t>(l)].at("op").as_string() == "ffn_residual");
      }
      Run text = run_cli("trace diff '" + a + "' '" + b + "'");
      BOOST_TEST(contains(text.out, "first difference: position 0, layer 1 ffn_act"), text.out);
      BOOST_TEST(contains(text.out, "B/A"), text.out);
    }
  }
}

BOOST_AUTO_TEST_CASE(agreeing_runs_show_no_difference) {
  TempDir dir;
  const std::string model = write_model(dir, "m.gguf");
  const std::string run = "run --model '" + model + "' --prompt 'hello world' -n 3 --greedy ";
  BOOST_TEST_REQUIRE(
      run_cli(run + "--backend cpu-generic --trace '" + (dir / "a") + "'", kFaulty).exit_code == 0);
  // The faulty backend with no fault is cpu-generic, value for value.
  BOOST_TEST_REQUIRE(
      run_cli(run + "--backend faulty --trace '" + (dir / "b") + "'", kFaulty).exit_code == 0);
  Run d = run_cli("trace diff '" + (dir / "a") + "' '" + (dir / "b") + "' --tol 0");
  BOOST_TEST(d.exit_code == 0, d.out);
  BOOST_TEST(contains(d.out, "no difference beyond 0"), d.out);
  BOOST_TEST(read_file(dir.path / "a/trace.jsonl") == read_file(dir.path / "b/trace.jsonl"));
}

BOOST_AUTO_TEST_CASE(records_filters_values_and_the_environment) {
  TempDir dir;
  const std::string model = write_model(dir, "m.gguf");
  const std::string run = "run --model '" + model + "' --prompt 'hello world' -n 3 --greedy ";
  Run r = run_cli(run + "--trace '" + (dir / "f") +
                  "' --trace-layers 1 --trace-positions 0,3-9 --trace-values");
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out);
  const std::vector<json::object> records = trace_records(dir.path / "f");
  BOOST_TEST_REQUIRE(!records.empty());
  std::set<std::string> layers;
  std::set<int64_t> positions;
  int64_t values = 0;
  for (const json::object& o : records) {
    layers.insert(layer_of(o));
    positions.insert(o.at("position").as_int64());
    BOOST_TEST(o.at("dtype").as_string() == "F32");
    BOOST_TEST(o.at("hash").as_string().size() == 16u);
    BOOST_TEST(o.at("nonfinite").as_int64() == 0);
    BOOST_TEST(o.at("rms").as_double() >= 0);
    BOOST_TEST(o.at("values_offset").as_int64() == values * 4);
    int64_t n = 1;
    for (const json::value& d : o.at("shape").as_array())
      n *= d.as_int64();
    values += n;
  }
  BOOST_TEST((layers == std::set<std::string>{"-", "1"}));
  // The prompt is 2 tokens and 3 are generated, the last never evaluated: positions 0 to 3.
  BOOST_TEST((positions == std::set<int64_t>{0, 3}));
  BOOST_TEST(fs::file_size(dir.path / "f/values.f32") == static_cast<uintmax_t>(values * 4));
  // Every op of layer 1 at position 0, in graph order.
  std::vector<std::string> ops;
  for (const json::object& o : records)
    if (o.at("position").as_int64() == 0 && layer_of(o) == "1")
      ops.emplace_back(o.at("op").as_string());
  BOOST_TEST(ops.front() == "attn_norm");
  BOOST_TEST(ops.back() == "ffn_residual");
  BOOST_TEST(std::ranges::count(ops, "ffn_act") == 1);

  // BITNET_TRACE_DIR is --trace.
  BOOST_TEST_REQUIRE(run_cli(run + "--trace '" + (dir / "opt") + "'").exit_code == 0);
  BOOST_TEST_REQUIRE(run_cli(run, "BITNET_TRACE_DIR='" + (dir / "env") + "'").exit_code == 0);
  BOOST_TEST(read_file(dir.path / "opt/trace.jsonl") == read_file(dir.path / "env/trace.jsonl"));
  BOOST_TEST(!fs::exists(dir.path / "opt/values.f32"));
}

BOOST_AUTO_TEST_CASE(usage_and_bad_traces) {
  TempDir dir;
  const std::string model = write_model(dir, "m.gguf");
  const std::string run = "run --model '" + model + "' --prompt 'hello' -n 1 ";
  BOOST_TEST(run_cli(run + "--trace-layers 1").exit_code == 2);
  BOOST_TEST(run_cli(run + "--trace-values").exit_code == 2);
  Run r = run_cli(run + "--trace '" + (dir / "t") + "' --trace-positions 3-1");
  BOOST_TEST(r.exit_code == 2, r.out);
  BOOST_TEST(contains(r.out, "'3-1' is not a number or a range"), r.out);
  r = run_cli("trace diff '" + (dir / "none") + "' '" + (dir / "none") + "'");
  BOOST_TEST(r.exit_code == 1, r.out);
  BOOST_TEST(contains(r.out, "cannot read"), r.out);
  fs::create_directories(dir.path / "junk");
  std::ofstream(dir.path / "junk/trace.jsonl") << "{\"position\":0}\n";
  r = run_cli("trace diff '" + (dir / "junk") + "' '" + (dir / "junk") + "'");
  BOOST_TEST(r.exit_code == 1, r.out);
  BOOST_TEST(contains(r.out, "line 1"), r.out);
  BOOST_TEST(run_cli("trace").exit_code == 2);
  BOOST_TEST(run_cli("trace merge a b").exit_code == 2);
  BOOST_TEST(run_cli("trace diff onlyone").exit_code == 2);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cli_crossval)

BOOST_AUTO_TEST_CASE(crossval_names_a_slightly_wrong_op) {
  TempDir dir;
  const std::string model = write_model(dir, "m.gguf");
  const std::string cmd = "crossval --model '" + model +
                          "' --prompt 'hello world and the' -n 4 --backends cpu-generic,faulty ";
  const std::string env = fault("blk.1.ffn_act=scale");
  Run r = run_cli(cmd + "--json", env);
  json::object j = parse_json(r);
  const json::object& c = j.at("comparisons").as_array().at(0).as_object();
  BOOST_TEST(c.at("backend").as_string() == "faulty");
  const json::object& op = c.at("first_divergent_op").as_object();
  BOOST_TEST(op.at("position").as_int64() == 0, r.out);
  BOOST_TEST(op.at("layer").as_int64() == 1, r.out);
  BOOST_TEST(op.at("op").as_string() == "ffn_act", r.out);
  BOOST_TEST(op.at("error").as_double() == 0.05 / 1.05, boost::test_tools::tolerance(1e-4));
  // 5% off in one GLU moves the logits little: the exit follows --cos-tol.
  const double min_cos = c.at("min_cosine").as_double();
  BOOST_TEST(min_cos < 1.0);
  BOOST_TEST(r.exit_code == (min_cos < 0.999 ? 1 : 0), r.out);
  const auto positions = c.at("positions").as_array().size();
  BOOST_TEST(positions == j.at("tokens").as_array().size());

  r = run_cli(cmd + "--cos-tol 1", env);
  BOOST_TEST(r.exit_code == 1, r.out);
  BOOST_TEST(contains(r.out, "first op past --op-tol 0.001: position 0, layer 1 ffn_act"), r.out);
  BOOST_TEST(contains(r.out, "FAIL: the logits diverge"), r.out);
}

BOOST_AUTO_TEST_CASE(crossval_finds_a_wrong_rope_mode_from_position_1) {
  TempDir dir;
  const std::string model = write_model(dir, "m.gguf");
  Run r = run_cli("crossval --model '" + model +
                      "' --prompt 'hello world and the' -n 4 --backends cpu-generic,faulty --json",
                  fault("blk.0.k_rope=rope-mode"));
  BOOST_TEST(r.exit_code == 1, r.out);
  const json::object j = parse_json(r);
  BOOST_TEST(j.at("result").as_string() == "FAIL");
  const json::object& c = j.at("comparisons").as_array().at(0).as_object();
  // Position 0 rotates by angle 0 whichever pairs: only later positions can tell.
  const json::object& p0 = c.at("positions").as_array().at(0).as_object();
  BOOST_TEST(p0.at("max_abs_diff").as_double() == 0.0);
  BOOST_TEST(c.at("first_divergent_position").as_int64() >= 1, r.out);
  const json::object& op = c.at("first_divergent_op").as_object();
  BOOST_TEST(op.at("position").as_int64() == 1, r.out);
  BOOST_TEST(op.at("layer").as_int64() == 0, r.out);
  BOOST_TEST(op.at("op").as_string() == "k_rope", r.out);
}

BOOST_AUTO_TEST_CASE(agreeing_backends_pass) {
  TempDir dir;
  const std::string model = write_model(dir, "m.gguf");
  Run r = run_cli("crossval --model '" + model +
                      "' --prompt 'hello world' -n 3 --backends cpu-generic,faulty --json",
                  kFaulty);
  BOOST_TEST(r.exit_code == 0, r.out);
  const json::object j = parse_json(r);
  const json::object& c = j.at("comparisons").as_array().at(0).as_object();
  BOOST_TEST(c.at("first_divergent_position").is_null());
  BOOST_TEST(c.at("first_divergent_op").is_null());
  for (const json::value& p : c.at("positions").as_array()) {
    BOOST_TEST(p.at("max_abs_diff").as_double() == 0.0);
    BOOST_TEST(p.at("top1").as_bool());
    BOOST_TEST(p.at("top5").as_int64() == 5);
  }
  // The best-ranked backend (cpu-avx2 where the CPU has it) against the reference: its I2_S
  // kernels agree to the bit, its float ones to rounding.
  const std::string plugins = run_cli("plugins").out;
  const size_t avx2 = plugins.find("cpu-avx2  backend");
  if (avx2 != std::string::npos &&
      plugins.substr(avx2, plugins.find('\n', avx2) - avx2).ends_with("loaded")) {
    r = run_cli("crossval --model '" + model +
                "' --prompt 'hello world' -n 3 --backends cpu-generic,cpu-avx2");
    BOOST_TEST(r.exit_code == 0, r.out);
  }
}

BOOST_AUTO_TEST_CASE(crossval_against_a_logits_file) {
  TempDir dir;
  const std::string model = write_model(dir, "m.gguf");
  const std::string logits = dir / "ref.logits";
  Run run = run_cli("run --model '" + model + "' --prompt 'hello world' -n 4 --greedy " +
                    "--backend cpu-generic --json --dump-logits '" + logits + "'");
  BOOST_TEST_REQUIRE(run.exit_code == 0, run.out);
  size_t last = run.out.rfind("{\"model\"");
  const json::object record =
      json::parse(run.out.substr(last, run.out.find('\n', last) - last)).as_object();
  std::vector<int64_t> tokens;
  for (const char* key : {"prompt_ids", "generated_ids"})
    for (const json::value& v : record.at(key).as_array())
      tokens.push_back(v.as_int64());

  // Header line, then one row of 280 float32 per token.
  const std::string bytes = read_file(logits);
  const size_t header = bytes.find('\n') + 1;
  BOOST_TEST(bytes.size() - header == tokens.size() * 280 * 4);
  BOOST_TEST(contains(bytes.substr(0, header), "\"format\":\"bitnet-logits\""));

  Run r = run_cli("crossval --model '" + model + "' --reference '" + logits +
                  "' --backends cpu-generic --json");
  BOOST_TEST(r.exit_code == 0, r.out);
  json::object j = parse_json(r);
  std::vector<int64_t> replayed;
  for (const json::value& v : j.at("tokens").as_array())
    replayed.push_back(v.as_int64());
  BOOST_TEST(replayed == tokens);
  for (const json::value& p : j.at("comparisons").as_array().at(0).at("positions").as_array())
    BOOST_TEST(p.at("max_abs_diff").as_double() == 0.0);

  r = run_cli(
      "crossval --model '" + model + "' --reference '" + logits + "' --backends faulty --json",
      fault("blk.0.k_rope=rope-mode"));
  BOOST_TEST(r.exit_code == 1, r.out);
  j = parse_json(r);
  const json::object& c = j.at("comparisons").as_array().at(0).as_object();
  BOOST_TEST(c.at("first_divergent_position").as_int64() >= 1, r.out);
  BOOST_TEST(c.at("first_divergent_op").is_null());  // a file holds no op outputs

  // A truncated file is refused with what the format is.
  fs::resize_file(logits, fs::file_size(logits) - 4);
  r = run_cli("crossval --model '" + model + "' --reference '" + logits + "'");
  BOOST_TEST(r.exit_code == 1, r.out);
  BOOST_TEST(contains(r.out, "float32 rows"), r.out);
}

BOOST_AUTO_TEST_CASE(crossval_usage_errors) {
  TempDir dir;
  const std::string model = write_model(dir, "m.gguf");
  const std::string m = "crossval --model '" + model + "' ";
  BOOST_TEST(run_cli(m + "--prompt hi").exit_code == 2);
  BOOST_TEST(run_cli(m + "--prompt hi --backends cpu-generic").exit_code == 2);
  BOOST_TEST(run_cli(m + "--backends cpu-generic,faulty").exit_code == 2);
  BOOST_TEST(run_cli(m + "--prompt hi --reference x --backends cpu-generic").exit_code == 2);
  BOOST_TEST(run_cli(m + "--prompt hi --backends a,b --cos-tol 2").exit_code == 2);
  Run r = run_cli(m + "--prompt hi --backends cpu-generic,no-such-backend");
  BOOST_TEST(r.exit_code == 1, r.out);
  BOOST_TEST(contains(r.out, "no-such-backend"), r.out);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cli_receipt)

BOOST_AUTO_TEST_CASE(deterministic_runs_give_equal_receipts) {
  TempDir dir;
  const std::string model = write_model(dir, "m.gguf");
  auto receipt = [&](const std::string& name, const std::string& args) {
    Run r = run_cli("run --model '" + model + "' --prompt 'hello world' -n 6 --temperature 1 " +
                        args + " --receipt '" + (dir / name) + "'",
                    "BITNET_DETERMINISTIC=1");
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.out);
    return json::parse(read_file(dir.path / name)).as_object();
  };
  json::object one = receipt("1.json", "--seed 7 --threads 1");
  json::object two = receipt("2.json", "--seed 7 --threads 2");
  json::object other = receipt("3.json", "--seed 8 --threads 2");

  const json::object& m = one.at("model").as_object();
  BOOST_TEST(m.at("sha256").as_string() == bitnet::diagnostics::sha256_file(model).value());
  BOOST_TEST(m.at("architecture").as_string() == "bitnet-b1.58");
  BOOST_TEST(m.at("weight_types").at("I2_S").as_int64() == 28);
  BOOST_TEST(m.at("weight_types").at("F16").as_int64() == 1);
  BOOST_TEST(!one.at("backend").at("name").as_string().empty());
  BOOST_TEST(!one.at("backend").at("version").as_string().empty());
  BOOST_TEST(one.at("command").as_string() == "run");
  BOOST_TEST(one.at("deterministic").as_bool());
  BOOST_TEST(one.at("sampling").at("seed").as_int64() == 7);
  BOOST_TEST(!one.at("prompt_ids").as_array().empty());
  BOOST_TEST(one.at("generated_ids").as_array().size() >= 1u);
  BOOST_TEST(one.at("timings").at("generated_tokens").as_int64() >= 1);
  BOOST_TEST(one.at("threads").as_int64() == 1);

  // Everything but the timings and the thread count is the same run to run.
  for (json::object* o : {&one, &two, &other}) {
    o->erase("timings");
    o->erase("threads");
  }
  BOOST_TEST(json::serialize(one) == json::serialize(two));
  BOOST_TEST(json::serialize(one) != json::serialize(other));

  Run r = run_cli("run --model '" + model + "' --prompt hi -n 1 --receipt /nonexistent/dir/r");
  BOOST_TEST(r.exit_code == 1, r.out);
  BOOST_TEST(contains(r.out, "cannot write the receipt"), r.out);
}

BOOST_AUTO_TEST_CASE(bench_writes_a_receipt) {
  TempDir dir;
  const std::string model = write_model(dir, "m.gguf");
  Run r = run_cli("bench --model '" + model + "' -p 8 -n 4 -r 1 --threads 1 --receipt '" +
                  (dir / "b.json") + "'");
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out);
  const json::object o = json::parse(read_file(dir.path / "b.json")).as_object();
  BOOST_TEST(o.at("command").as_string() == "bench");
  BOOST_TEST(o.at("model").at("sha256").as_string() ==
             bitnet::diagnostics::sha256_file(model).value());
  BOOST_TEST(o.at("threads").as_int64() == 1);
  BOOST_TEST(o.at("prompt_tokens").as_int64() == 8);
  BOOST_TEST(o.at("gen_tokens").as_int64() == 4);
  BOOST_TEST(o.at("decode_tokens_per_s").at("median").as_double() > 0);
}

BOOST_AUTO_TEST_SUITE_END()
