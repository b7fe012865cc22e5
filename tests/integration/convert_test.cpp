// `bitnet convert` on HF checkpoints written by the test itself. The converted file's logits, as
// cpu-generic and the GGUF reference compute them, are held against transformers' arithmetic on
// the HF tensors (rotate_half RoPE on unpermuted q/k, reference/hf_forward.hpp); a LLaMA file
// without the q/k permutation would fail that, which the test shows by the adjacent-pair
// control. Then the files' metadata and types, `bitnet run`, and every refusal.
#include <bitnet/runtime/gguf/reader.hpp>
#include <bitnet/runtime/model/model.hpp>
#include <bitnet/runtime/model/session.hpp>
#include <bitnet/sdk/types.hpp>

#include <boost/test/unit_test.hpp>

#include <filesystem>

#include "../reference/reference_forward.hpp"
#include "cli_runner.hpp"
#include "hf_checkpoint.hpp"

using namespace bitnet;
using namespace bitnet_test;
namespace fs = std::filesystem;
namespace json = boost::json;
using Logits = std::vector<std::vector<double>>;

namespace {

const std::vector<int32_t> kTokens = {273, 5, 100, 42, 200, 7, 66, 12, 261};

fs::path gguf_path(const std::string& name) {
  return fs::temp_directory_path() / ("bitnet-convert-" + name + ".gguf");
}

Run convert_folder(const reference::HfModel& m, const std::string& name, const std::string& flags,
                   const json::object& config = {}) {
  const fs::path dir = fs::temp_directory_path() / ("bitnet-convert-" + name);
  write_hf_folder(m, dir, config);
  fs::remove(gguf_path(name));
  return run_cli("convert --input '" + dir.string() + "' --out '" + gguf_path(name).string() +
                 "' " + flags);
}

Logits runtime_logits(const fs::path& path) {
  const plugins::PluginHost host =
      plugins::PluginHost::scan(plugins::HostOptions{{BITNET_BUILT_PLUGIN_DIR}});
  auto m = model::Model::load(path, host, {.backend = "cpu-generic"});
  BOOST_REQUIRE_MESSAGE(m, (m ? "" : m.error().message));
  auto s = model::Session::create(**m, 32, 4);
  BOOST_REQUIRE(s);
  auto flat = s->eval(kTokens, true);
  BOOST_REQUIRE_MESSAGE(flat, (flat ? "" : flat.error().message));
  const size_t n_vocab = flat->size() / kTokens.size();
  Logits out;
  for (size_t t = 0; t < kTokens.size(); ++t)
    out.emplace_back(flat->begin() + t * n_vocab, flat->begin() + (t + 1) * n_vocab);
  return out;
}

// The worst position's max|a - b| relative to max|b|.
double rel_diff(const Logits& a, const Logits& b) {
  BOOST_REQUIRE_EQUAL(a.size(), b.size());
  double worst = 0;
  for (size_t t = 0; t < a.size(); ++t) {
    BOOST_REQUIRE_EQUAL(a[t].size(), b[t].size());
    double diff = 0, scale = 0;
    for (size_t v = 0; v < a[t].size(); ++v) {
      diff = std::max(diff, std::abs(a[t][v] - b[t][v]));
      scale = std::max(scale, std::abs(b[t][v]));
    }
    worst = std::max(worst, diff / scale);
  }
  return worst;
}

int32_t type_of(const gguf::Reader& r, const std::string& tensor) {
  const gguf::TensorInfo* t = r.tensor(tensor);
  BOOST_REQUIRE_MESSAGE(t, tensor + " is missing");
  return t->type;
}

struct Case {
  std::string name;
  HfShape shape;
  std::string flags;
  bool bitlinear = false;
  // Float conversions are exact (the test's values fit every dtype), so only float32 sums
  // differ (as in model_reference); Q8_0 and the int8 activations of ternary matmuls move
  // logits by up to a few percent, while a wrong layout, order or permutation moves them by
  // order one.
  double bound = 0;
  int32_t weight_type = 0;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  auto add = [&](const char* name, const char* hf_class, bool tied, const char* flags, int32_t type,
                 int64_t n_embd = 64, int64_t n_ff = 128) {
    Case c;
    c.name = name;
    c.shape.hf_class = hf_class;
    c.shape.tied = tied;
    c.shape.n_embd = n_embd;
    c.shape.n_ff = n_ff;
    c.flags = flags;
    c.weight_type = type;
    c.bitlinear = contains(flags, "--quantize-ternary");
    c.bound = type == BITNET_TYPE_F32 || type == BITNET_TYPE_F16 ? 1e-5 : 5e-2;
    out.push_back(std::move(c));
  };
  add("llama-f32", "LlamaForCausalLM", false, "--type f32", BITNET_TYPE_F32);
  add("llama-f16-tied", "LlamaForCausalLM", true, "", BITNET_TYPE_F16);
  add("llama-q8_0", "LlamaForCausalLM", false, "--type q8_0", BITNET_TYPE_Q8_0);
  add("bitnet-f32", "BitNetForCausalLM", true, "--type f32", BITNET_TYPE_F32);
  add("bitnet-i2_s", "BitNetForCausalLM", true, "--type i2_s --quantize-ternary", BITNET_TYPE_I2_S,
      128, 256);
  add("bitnet-tq2_0", "BitNetForCausalLM", true, "--type tq2_0 --quantize-ternary",
      BITNET_TYPE_TQ2_0, 256, 256);
  add("qwen2-f32", "Qwen2ForCausalLM", true, "--type f32", BITNET_TYPE_F32);
  add("phi3-f32", "Phi3ForCausalLM", false, "--type f32", BITNET_TYPE_F32);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_convert)

BOOST_AUTO_TEST_CASE(converted_logits_match_transformers_arithmetic) {
  for (const Case& c : cases()) {
    BOOST_TEST_CONTEXT(c.name) {
      reference::HfModel m = random_hf_model(c.shape);
      // Older LLaMA checkpoints carry RoPE's frequencies as a buffer; it is not a weight.
      if (c.name == "llama-f16-tied")
        m.tensors["model.layers.0.self_attn.rotary_emb.inv_freq"] = {{8}, std::vector<float>(8)};
      const json::object config =
          c.name == "phi3-f32" ? json::object{{"sliding_window", 2047}} : json::object{};
      const Run r = convert_folder(m, c.name, c.flags, config);
      BOOST_TEST_REQUIRE(r.exit_code == 0, r.out);
      BOOST_TEST(contains(r.out, "wrote "), r.out);
      const Logits want = reference::hf_forward(m, kTokens, {.bitlinear = c.bitlinear});
      const Logits got = runtime_logits(gguf_path(c.name));
      BOOST_TEST(rel_diff(got, want) < c.bound);
      auto reader = gguf::Reader::open(gguf_path(c.name));
      BOOST_REQUIRE(reader);
      BOOST_TEST(rel_diff(reference::forward(*reader, kTokens), want) < c.bound);
      // RoPE on adjacent pairs is what the runtime would compute on unpermuted LLaMA rows (or
      // with the wrong rope mode elsewhere); it moves the logits by order one (measured 0.2-1).
      BOOST_TEST(rel_diff(got, reference::hf_forward(
                                   m, kTokens,
                                   {.bitlinear = c.bitlinear, .adjacent_pair_rope = true})) > 0.1);

      BOOST_TEST(type_of(*reader, "blk.0.ffn_down.weight") == c.weight_type);
      BOOST_TEST(type_of(*reader, "blk.1.attn_norm.weight") == BITNET_TYPE_F32);
      BOOST_TEST(type_of(*reader, "token_embd.weight") ==
                 (c.weight_type == BITNET_TYPE_F32 ? BITNET_TYPE_F32 : BITNET_TYPE_F16));
      BOOST_TEST((reader->tensor("output.weight") != nullptr) == !c.shape.tied);
      const gguf::Value* tokens = reader->find("tokenizer.ggml.tokens");
      BOOST_REQUIRE(tokens);
      BOOST_TEST(tokens->as_array()->items.size() == 275u);
      const gguf::Value* tmpl = reader->find("tokenizer.chat_template");
      BOOST_TEST((tmpl && *tmpl->as_string() == kTestChatTemplate));
      BOOST_TEST(
          ((reader->find("phi3.attention.sliding_window") != nullptr) == (c.name == "phi3-f32")));
    }
  }
}

BOOST_AUTO_TEST_CASE(converted_models_generate) {
  for (const Case& c : cases()) {
    if (c.name != "llama-f32" && c.name != "bitnet-i2_s") continue;
    BOOST_TEST_REQUIRE(convert_folder(random_hf_model(c.shape), c.name, c.flags).exit_code == 0);
    const Run r = run_cli("run --model '" + gguf_path(c.name).string() +
                          "' --prompt 'hello world' --max-tokens 4 --greedy");
    BOOST_TEST(r.exit_code == 0, c.name << ": " << r.out);
  }
}

BOOST_AUTO_TEST_CASE(refusals_name_the_tensor_and_the_remedy) {
  const reference::HfModel llama = random_hf_model({});
  auto refused = [&](const reference::HfModel& m, const std::string& flags,
                     const json::object& config, const std::string& part, int code = 1) {
    const Run r = convert_folder(m, "refused", flags, config);
    BOOST_TEST(r.exit_code == code, r.out);
    BOOST_TEST(contains(r.out, part), r.out);
    BOOST_TEST(!fs::exists(gguf_path("refused")));
  };
  const reference::HfModel bitnet =
      random_hf_model({.hf_class = "BitNetForCausalLM", .n_embd = 128, .n_ff = 256, .tied = true});
  refused(bitnet, "--type i2_s", {},
          "blk.0.attn_q.weight (from model.layers.0.self_attn.q_proj.weight) cannot be written "
          "as I2_S");
  refused(bitnet, "--type i2_s", {}, "add --quantize-ternary");
  refused(random_hf_model({.n_embd = 256, .n_ff = 256}), "--type tq2_0", {},
          "choose --type f16, q8_0 or q4_0");
  refused(llama, "--type tq2_0", {},
          "rows of 64 elements are not a whole number of 256-element TQ2_0 blocks; choose "
          "another --type");
  refused(llama, "--quantize-ternary", {}, "--quantize-ternary applies to BitNet b1.58");
  reference::HfModel biased = llama;
  biased.tensors["model.layers.0.self_attn.q_proj.bias"] = {{64}, std::vector<float>(64)};
  refused(biased, "", {}, "tensor model.layers.0.self_attn.q_proj.bias has no place");
  refused(llama, "", {{"architectures", json::array{"MistralForCausalLM"}}},
          "'MistralForCausalLM', which the converter does not know");
  refused(llama, "", {{"rope_scaling", {{"type", "linear"}, {"factor", 2.0}}}}, "rope_scaling");
  refused(llama, "", {{"hidden_act", "gelu"}}, "hidden_act is 'gelu'");
  refused(llama, "", {{"intermediate_size", 100}},
          "model.layers.0.mlp.gate_proj.weight has shape [128, 64] but the config implies "
          "[100, 64]");
  refused(llama, "--type q4", {}, "--type q4 is not known", 2);

  // A class named by --arch converts; a truncated safetensors file is refused by the reader.
  Run r = convert_folder(llama, "arch", "--arch llama",
                         {{"architectures", json::array{"MistralForCausalLM"}}});
  BOOST_TEST(r.exit_code == 0, r.out);
  const fs::path st = fs::temp_directory_path() / "bitnet-convert-arch" / "model.safetensors";
  fs::resize_file(st, fs::file_size(st) - 4);
  r = run_cli("convert --input '" + st.parent_path().string() + "' --out '" +
              gguf_path("cut").string() + "' --arch llama");
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.out, "past the data section"), r.out);
}

BOOST_AUTO_TEST_CASE(a_folder_without_tokenizer_converts_with_a_warning) {
  const reference::HfModel m = random_hf_model({});
  const fs::path dir = fs::temp_directory_path() / "bitnet-convert-no-tok";
  write_hf_folder(m, dir);
  fs::remove(dir / "tokenizer.json");
  const Run r = run_cli("convert --input '" + dir.string() + "' --out '" +
                        gguf_path("no-tok").string() + "'");
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out);
  BOOST_TEST(contains(r.out, "no tokenizer.json"), r.out);
  auto reader = gguf::Reader::open(gguf_path("no-tok"));
  BOOST_REQUIRE(reader);
  BOOST_TEST(!reader->find("tokenizer.ggml.tokens"));
}

BOOST_AUTO_TEST_SUITE_END()
