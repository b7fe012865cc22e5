#include "hf_checkpoint.hpp"

#include <bitnet/runtime/tokenizer/byte_level.hpp>
#include <bitnet/sdk/half.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>

namespace bitnet_test {
namespace {

namespace json = boost::json;
using bitnet::reference::HfModel;
using bitnet::reference::HfTensor;

const char* const kMerges[][2] = {
    {"\u0120", "t"},    {"h", "e"},         {"\u0120t", "he"}, {"i", "n"},        {"a", "n"},
    {"e", "r"},         {"\u0120", "a"},    {"\u0120a", "n"},  {"\u0120an", "d"}, {"l", "l"},
    {"he", "ll"},       {"hell", "o"},      {"o", "r"},        {"\u0120", "w"},   {"\u0120w", "or"},
    {"\u0120wor", "l"}, {"\u0120worl", "d"}};

// Bytes, merge results, then <s> and </s>.
int64_t tokenizer_size() {
  return 256 + static_cast<int64_t>(std::size(kMerges)) + 2;
}

float exact(float x) {
  const float b = bitnet::sdk::bf16_to_f32(bitnet::sdk::f32_to_bf16(x));
  return std::fabs(b) < 0x1p-14f ? 0.0f : b;
}

void write_tokenizer(const std::filesystem::path& dir) {
  json::object vocab;
  const auto& chars = bitnet::tok::byte_to_char();
  for (size_t b = 0; b < chars.size(); ++b)
    vocab[chars[b]] = b;
  json::array merges;
  for (const auto& [a, b] : kMerges) {
    const auto id = vocab.size();
    vocab[std::string(a) + b] = id;
    merges.push_back(json::string(std::string(a) + " " + b));
  }
  const json::object tokenizer = byte_level_tokenizer_json(std::move(vocab), std::move(merges));
  std::ofstream(dir / "tokenizer.json") << json::serialize(tokenizer);
  std::ofstream(dir / "tokenizer_config.json") << json::serialize(json::object{
      {"bos_token", "<s>"}, {"eos_token", "</s>"}, {"chat_template", kTestChatTemplate}});
}

void write_safetensors(const HfModel& m, const std::filesystem::path& path) {
  json::object header{{"__metadata__", {{"format", "pt"}}}};
  std::string data;
  size_t i = 0;
  for (const auto& [name, t] : m.tensors) {
    const char* dtype = i % 3 == 0 ? "F32" : i % 3 == 1 ? "BF16" : "F16";
    const size_t begin = data.size();
    for (float v : t.values) {
      if (i % 3 == 0) {
        data.append(reinterpret_cast<const char*>(&v), 4);
      } else {
        const uint16_t h = i % 3 == 1 ? bitnet::sdk::f32_to_bf16(v) : bitnet::sdk::f32_to_fp16(v);
        data.append(reinterpret_cast<const char*>(&h), 2);
      }
    }
    header[name] = {{"dtype", dtype},
                    {"shape", json::value_from(t.shape)},
                    {"data_offsets", json::array{begin, data.size()}}};
    ++i;
  }
  std::string text = json::serialize(header);
  text.resize((text.size() + 7) / 8 * 8, ' ');  // as safetensors pads it
  const uint64_t n = text.size();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << text << data;
}

}  // namespace

HfModel random_hf_model(const HfShape& s) {
  HfModel m;
  m.hf_class = s.hf_class;
  m.n_embd = s.n_embd;
  m.n_ff = s.n_ff;
  m.n_layer = s.n_layer;
  m.n_head = s.n_head;
  m.n_head_kv = s.n_head_kv;
  m.n_vocab = (tokenizer_size() + 7) / 8 * 8 + 8;
  m.tied = s.tied;
  m.rope_theta = s.hf_class == "BitNetForCausalLM" ? 500000 : 10000;
  const bool phi3 = s.hf_class == "Phi3ForCausalLM";
  std::mt19937_64 rng(s.seed);
  auto add = [&](const std::string& name, std::vector<int64_t> shape, double mean, double sd) {
    std::normal_distribution<double> d(mean, sd);
    int64_t n = 1;
    for (int64_t e : shape)
      n *= e;
    HfTensor& t = m.tensors[name];
    t.shape = std::move(shape);
    for (int64_t i = 0; i < n; ++i)
      t.values.push_back(exact(static_cast<float>(d(rng))));
  };
  const int64_t e = s.n_embd, kv = s.n_embd / s.n_head * s.n_head_kv, f = s.n_ff;
  add("model.embed_tokens.weight", {m.n_vocab, e}, 0, 0.1);
  add("model.norm.weight", {e}, 1, 0.1);
  if (!s.tied) add("lm_head.weight", {m.n_vocab, e}, 0, 0.1);
  for (int64_t l = 0; l < s.n_layer; ++l) {
    const std::string b = "model.layers." + std::to_string(l) + ".";
    add(b + "input_layernorm.weight", {e}, 1, 0.1);
    add(b + "post_attention_layernorm.weight", {e}, 1, 0.1);
    if (phi3) {
      add(b + "self_attn.qkv_proj.weight", {e + 2 * kv, e}, 0, 0.1);
      add(b + "mlp.gate_up_proj.weight", {2 * f, e}, 0, 0.05);
    } else {
      add(b + "self_attn.q_proj.weight", {e, e}, 0, 0.1);
      add(b + "self_attn.k_proj.weight", {kv, e}, 0, 0.1);
      add(b + "self_attn.v_proj.weight", {kv, e}, 0, 0.05);
      add(b + "mlp.gate_proj.weight", {f, e}, 0, 0.05);
      add(b + "mlp.up_proj.weight", {f, e}, 0, 0.05);
    }
    if (s.hf_class == "Qwen2ForCausalLM")
      for (const auto& [p, n] : {std::pair{"q", e}, {"k", kv}, {"v", kv}})
        add(b + "self_attn." + p + "_proj.bias", {n}, 0, 0.05);
    if (s.hf_class == "BitNetForCausalLM") {
      add(b + "self_attn.attn_sub_norm.weight", {e}, 1, 0.1);
      add(b + "mlp.ffn_sub_norm.weight", {f}, 1, 0.1);
    }
    add(b + "self_attn.o_proj.weight", {e, e}, 0, 0.05);
    add(b + "mlp.down_proj.weight", {e, f}, 0, 0.05);
  }
  return m;
}

void write_hf_folder(const HfModel& m, const std::filesystem::path& dir,
                     const json::object& overrides) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  json::object config{{"architectures", json::array{json::string(m.hf_class)}},
                      {"hidden_size", m.n_embd},
                      {"intermediate_size", m.n_ff},
                      {"num_hidden_layers", m.n_layer},
                      {"num_attention_heads", m.n_head},
                      {"num_key_value_heads", m.n_head_kv},
                      {"max_position_embeddings", 128},
                      {"rms_norm_eps", m.rms_eps},
                      {"rope_theta", m.rope_theta},
                      {"rope_scaling", nullptr},
                      {"tie_word_embeddings", m.tied},
                      {"vocab_size", m.n_vocab},
                      {"hidden_act", m.hf_class == "BitNetForCausalLM" ? "relu2" : "silu"},
                      {"torch_dtype", "bfloat16"}};
  for (const auto& [k, v] : overrides)
    config[k] = v;
  std::ofstream(dir / "config.json") << json::serialize(config);
  write_safetensors(m, dir / "model.safetensors");
  write_tokenizer(dir);
}

json::object byte_level_tokenizer_json(json::object vocab, json::array merges) {
  const auto bos = static_cast<int64_t>(vocab.size());
  auto added = [](int64_t id, const char* text) {
    return json::object{{"id", id},        {"content", text}, {"single_word", false},
                        {"lstrip", false}, {"rstrip", false}, {"normalized", false},
                        {"special", true}};
  };
  return json::object{
      {"version", "1.0"},
      {"added_tokens", json::array{added(bos, "<s>"), added(bos + 1, "</s>")}},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "ByteLevel"},
        {"add_prefix_space", false},
        {"trim_offsets", true},
        {"use_regex", true}}},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", json::array{json::object{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                               json::object{{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model", {{"type", "BPE"}, {"vocab", std::move(vocab)}, {"merges", std::move(merges)}}}};
}

}  // namespace bitnet_test
