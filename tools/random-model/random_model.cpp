#include "random_model.hpp"

#include <bitnet/runtime/model/architecture.hpp>
#include <bitnet/runtime/tokenizer/byte_level.hpp>
#include <bitnet/sdk/half.hpp>
#include <bitnet/sdk/types.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

namespace bitnet::testing {
namespace {

using gguf::Value;
using gguf::ValueType;

template <class T>
void put(std::vector<std::byte>& out, T v) {
  const auto* p = reinterpret_cast<const std::byte*>(&v);
  out.insert(out.end(), p, p + sizeof v);
}

// `n` values drawn from `dist`, encoded as `type`. I2_S gets ternary codes with the first
// 4 bytes of its 32-byte tail the scale (Microsoft BitNet's layout; codes 0, 1, 2 mean -1, 0, +1).
template <class Dist>
std::vector<std::byte> encode(int32_t type, int64_t n, Dist dist, std::mt19937_64& rng) {
  std::vector<std::byte> out;
  switch (type) {
    case BITNET_TYPE_F32:
      for (int64_t i = 0; i < n; ++i)
        put(out, static_cast<float>(dist(rng)));
      break;
    case BITNET_TYPE_F16:
      for (int64_t i = 0; i < n; ++i)
        put(out, sdk::f32_to_fp16(static_cast<float>(dist(rng))));
      break;
    case BITNET_TYPE_BF16:
      for (int64_t i = 0; i < n; ++i)
        put(out, sdk::f32_to_bf16(static_cast<float>(dist(rng))));
      break;
    case BITNET_TYPE_Q8_0:
      for (int64_t b = 0; b < n / 32; ++b) {
        float x[32], amax = 0;
        for (float& v : x) {
          v = static_cast<float>(dist(rng));
          amax = std::max(amax, std::fabs(v));
        }
        const float d = amax / 127;
        put(out, sdk::f32_to_fp16(d));
        for (float v : x)
          put(out, static_cast<int8_t>(d ? std::lround(v / d) : 0));
      }
      break;
    case BITNET_TYPE_Q4_0:
      // ggml's layout: per 32 elements an fp16 scale d = -max/8 (max the signed extreme),
      // then 16 bytes whose low nibble is element j and high nibble element j+16, value
      // (nibble - 8) * d.
      for (int64_t b = 0; b < n / 32; ++b) {
        float x[32], extreme = 0;
        for (float& v : x) {
          v = static_cast<float>(dist(rng));
          if (std::fabs(v) > std::fabs(extreme)) extreme = v;
        }
        const float d = extreme / -8;
        put(out, sdk::f32_to_fp16(d));
        auto nibble = [&](float v) {
          return static_cast<uint8_t>(std::clamp(std::lround(d ? v / d + 8 : 8), 0l, 15l));
        };
        for (int j = 0; j < 16; ++j)
          put(out, static_cast<uint8_t>(nibble(x[j]) | nibble(x[j + 16]) << 4));
      }
      break;
    case BITNET_TYPE_Q5_0: {
      // Random 5-bit codes (16 bytes of low nibbles, 4 bytes of high bits) under one scale.
      std::uniform_int_distribution<int> byte(0, 255);
      for (int64_t b = 0; b < n / 32; ++b) {
        put(out, sdk::f32_to_fp16(0.1f / 16));
        for (int i = 0; i < 4 + 16; ++i)
          put(out, static_cast<uint8_t>(byte(rng)));
      }
      break;
    }
    case BITNET_TYPE_Q4_K: {
      // Random codes under random 6-bit scales and mins, sized so values stay near the
      // distribution's spread: d * 63 * 15 and dmin * 63 both about 0.1.
      std::uniform_int_distribution<int> byte(0, 255);
      for (int64_t b = 0; b < n / 256; ++b) {
        put(out, sdk::f32_to_fp16(0.1f / (63 * 15)));
        put(out, sdk::f32_to_fp16(0.05f / 63));
        for (int i = 0; i < 12 + 128; ++i)
          put(out, static_cast<uint8_t>(byte(rng)));
      }
      break;
    }
    case BITNET_TYPE_Q6_K: {
      std::uniform_int_distribution<int> byte(0, 255), scale(-127, 127);
      for (int64_t b = 0; b < n / 256; ++b) {
        for (int i = 0; i < 128 + 64; ++i)
          put(out, static_cast<uint8_t>(byte(rng)));
        for (int i = 0; i < 16; ++i)
          put(out, static_cast<int8_t>(scale(rng)));
        put(out, sdk::f32_to_fp16(0.1f / (127 * 32)));
      }
      break;
    }
    case BITNET_TYPE_TQ2_0: {
      // ggml's layout: per 256 elements, 64 bytes of 2-bit codes (c - 1 in {-1, 0, +1}),
      // element 32*(4h+l)+m in byte 32h+m at shift 2l, then the fp16 block scale.
      std::uniform_int_distribution<int> code(0, 2);
      for (int64_t b = 0; b < n / 256; ++b) {
        uint8_t qs[64] = {};
        for (int e = 0; e < 256; ++e)
          qs[(e / 128) * 32 + e % 32] |= static_cast<uint8_t>(code(rng) << (2 * ((e % 128) / 32)));
        for (uint8_t q : qs)
          put(out, q);
        put(out, sdk::f32_to_fp16(static_cast<float>(std::fabs(dist(rng)) + 0.01)));
      }
      break;
    }
    case BITNET_TYPE_I2_S: {
      std::uniform_int_distribution<int> code(0, 2);
      for (int64_t i = 0; i < n / 4; ++i)
        put(out,
            static_cast<uint8_t>(code(rng) << 6 | code(rng) << 4 | code(rng) << 2 | code(rng)));
      put(out, static_cast<float>(std::fabs(dist(rng)) + 0.01));
      out.resize(out.size() + sdk::kI2sTailBytes - sizeof(float));
      break;
    }
  }
  return out;
}

std::vector<Value> strings(const std::vector<std::string>& v) {
  std::vector<Value> out;
  for (const std::string& s : v)
    out.push_back(Value::string(s));
  return out;
}

// Control tokens a chat format needs, appended after a vocabulary; the last one ends a turn.
using ChatTokens = std::vector<std::string>;

ChatTokens chat_tokens(std::string_view arch) {
  if (arch == "bitnet-b1.58") return {"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"};
  if (arch == "qwen2") return {"<|im_end|>"};
  if (arch == "phi3") return {"<|system|>", "<|user|>", "<|assistant|>", "<|end|>"};
  return {};
}

// Appends the chat format's control tokens (the last one ends a turn), then unused tokens
// (type 5) up to `pad_to`, so the vocabulary can have a real model's size.
void add_chat_tokens(const ChatTokens& chat, int64_t pad_to, std::vector<std::string>& tokens,
                     std::vector<Value>& types, std::vector<Value>* scores, gguf::Writer& w) {
  for (const std::string& t : chat) {
    tokens.push_back(t);
    types.push_back(Value::of(ValueType::i32, int64_t{3}));
    if (scores) scores->push_back(Value::of(ValueType::f32, 0.0));
  }
  if (!chat.empty())
    w.set("tokenizer.ggml.eot_token_id", Value::of(ValueType::u32, uint64_t{tokens.size() - 1}));
  while (static_cast<int64_t>(tokens.size()) < pad_to) {
    tokens.push_back("<unused" + std::to_string(tokens.size()) + ">");
    types.push_back(Value::of(ValueType::i32, int64_t{5}));
    if (scores) scores->push_back(Value::of(ValueType::f32, 0.0));
  }
}

// A SentencePiece-style vocabulary ('llama'): control tokens, the 256 byte fallbacks, then
// word pieces with descending scores, then the chat format's tokens.
int64_t spm_tokenizer(gguf::Writer& w, const ChatTokens& chat, int64_t pad_to) {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<Value> types = {Value::of(ValueType::i32, int64_t{2}),
                              Value::of(ValueType::i32, int64_t{3}),
                              Value::of(ValueType::i32, int64_t{3})};
  char hex[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(hex, sizeof hex, "<0x%02X>", b);
    tokens.push_back(hex);
    types.push_back(Value::of(ValueType::i32, int64_t{6}));
  }
  const std::string sp = "\xe2\x96\x81";  // U+2581, SentencePiece's space
  std::vector<std::string> pieces = {sp};
  for (char c = 'a'; c <= 'z'; ++c) {
    pieces.push_back(std::string(1, c));
    pieces.push_back(sp + c);
  }
  for (const char* w : {"th", "he", "in", "er", "an"})
    pieces.push_back(w);
  for (const char* w : {"the", "and", "of", "to", "in", "hello", "world"})
    pieces.push_back(sp + w);
  std::vector<Value> scores(tokens.size(), Value::of(ValueType::f32, 0.0));
  for (size_t i = 0; i < pieces.size(); ++i) {
    tokens.push_back(pieces[i]);
    types.push_back(Value::of(ValueType::i32, int64_t{1}));
    scores.push_back(Value::of(ValueType::f32, -static_cast<double>(i)));
  }
  add_chat_tokens(chat, pad_to, tokens, types, &scores, w);
  const auto n = static_cast<int64_t>(tokens.size());
  w.set("tokenizer.ggml.model", Value::string("llama"));
  w.set("tokenizer.ggml.tokens", Value::array(ValueType::string, strings(tokens)));
  w.set("tokenizer.ggml.scores", Value::array(ValueType::f32, std::move(scores)));
  w.set("tokenizer.ggml.token_type", Value::array(ValueType::i32, std::move(types)));
  w.set("tokenizer.ggml.unknown_token_id", Value::of(ValueType::u32, uint64_t{0}));
  w.set("tokenizer.ggml.bos_token_id", Value::of(ValueType::u32, uint64_t{1}));
  w.set("tokenizer.ggml.eos_token_id", Value::of(ValueType::u32, uint64_t{2}));
  return n;
}

// A byte-level BPE vocabulary ('gpt2'): the 256 byte characters, merges whose results are all
// tokens, then the special tokens and the chat format's.
int64_t bpe_tokenizer(gguf::Writer& w, const std::string& pre, const std::string& bos,
                      const std::string& eos, const ChatTokens& chat, int64_t pad_to) {
  std::vector<std::string> tokens(tok::byte_to_char().begin(), tok::byte_to_char().end());
  const std::string g = "\xc4\xa0";  // U+0120, byte-level BPE's space
  const std::vector<std::pair<std::string, std::string>> merges = {
      {g, "t"},   {"h", "e"},      {g + "t", "he"},  {"i", "n"},       {"a", "n"},
      {"e", "r"}, {"o", "n"},      {g, "a"},         {g + "a", "n"},   {g + "an", "d"},
      {"r", "e"}, {"l", "l"},      {"he", "ll"},     {"hell", "o"},    {"o", "r"},
      {g, "w"},   {g + "w", "or"}, {g + "wor", "l"}, {g + "worl", "d"}};
  std::vector<Value> merge_values;
  for (const auto& [a, b] : merges) {
    tokens.push_back(a + b);
    merge_values.push_back(Value::string(a + " " + b));
  }
  std::vector<Value> types(tokens.size(), Value::of(ValueType::i32, int64_t{1}));
  const uint64_t bos_id = tokens.size();
  tokens.push_back(bos);
  tokens.push_back(eos);
  types.push_back(Value::of(ValueType::i32, int64_t{3}));
  types.push_back(Value::of(ValueType::i32, int64_t{3}));
  add_chat_tokens(chat, pad_to, tokens, types, nullptr, w);
  const auto n = static_cast<int64_t>(tokens.size());
  w.set("tokenizer.ggml.model", Value::string("gpt2"));
  w.set("tokenizer.ggml.pre", Value::string(pre));
  w.set("tokenizer.ggml.tokens", Value::array(ValueType::string, strings(tokens)));
  w.set("tokenizer.ggml.token_type", Value::array(ValueType::i32, std::move(types)));
  w.set("tokenizer.ggml.merges", Value::array(ValueType::string, std::move(merge_values)));
  w.set("tokenizer.ggml.bos_token_id", Value::of(ValueType::u32, bos_id));
  w.set("tokenizer.ggml.eos_token_id", Value::of(ValueType::u32, bos_id + 1));
  return n;
}

struct ArchDefaults {
  const char* tokenizer;  // "llama" or a gpt2 pre-tokenizer name
  double rope_base;
  double rms_eps;
};

ArchDefaults defaults(std::string_view arch) {
  if (arch == "bitnet-b1.58") return {"llama-bpe", 500000.0, 1e-5};
  if (arch == "qwen2") return {"qwen2", 1000000.0, 1e-6};
  return {"llama", 10000.0, 1e-5};
}

}  // namespace

bool can_generate(int32_t type) {
  return type == BITNET_TYPE_F32 || type == BITNET_TYPE_F16 || type == BITNET_TYPE_BF16 ||
         type == BITNET_TYPE_Q8_0 || type == BITNET_TYPE_Q4_0 || type == BITNET_TYPE_Q5_0 ||
         type == BITNET_TYPE_Q4_K || type == BITNET_TYPE_Q6_K || type == BITNET_TYPE_I2_S ||
         type == BITNET_TYPE_TQ2_0;
}

Result<gguf::Writer> random_model(const RandomModelOptions& o) {
  const model::ArchSpec* arch = model::find_architecture(o.arch);
  if (!arch)
    return make_error(
        BITNET_STATUS_INVALID_ARGUMENT,
        "unknown architecture '" + o.arch + "'; known: " + model::architecture_names());
  for (int32_t t : {o.weight_type, o.embedding_type})
    if (!can_generate(t))
      return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                        "cannot generate tensors of type " + std::string(sdk::type_name(t)) +
                            "; use F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q6_K, I2_S or TQ2_0");
  // Microsoft's x86 kernels walk I2_S rows in blocks of 128 elements (32 bytes).
  if (o.weight_type == BITNET_TYPE_I2_S && (o.n_embd % 128 || o.n_ff % 128))
    return make_error(
        BITNET_STATUS_INVALID_ARGUMENT,
        "I2_S weights need the embedding and feed-forward sizes to be multiples of 128");
  const bool blocks_256 = o.weight_type == BITNET_TYPE_TQ2_0 || o.weight_type == BITNET_TYPE_Q4_K ||
                          o.weight_type == BITNET_TYPE_Q6_K;
  if (blocks_256 && (o.n_embd % 256 || o.n_ff % 256))
    return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                      std::string(sdk::type_name(o.weight_type)) +
                          " weights need the embedding and feed-forward sizes to be multiples "
                          "of 256");
  if (o.n_head < 1 || o.n_head_kv < 1 || o.n_head % o.n_head_kv || o.n_embd % o.n_head ||
      (o.n_embd / o.n_head) % 2)
    return make_error(
        BITNET_STATUS_INVALID_ARGUMENT,
        "heads must divide the embedding into even head sizes, and kv heads the heads");

  gguf::Writer w;
  const ArchDefaults d = defaults(o.arch);
  const std::string a(arch->name);
  w.set("general.architecture", Value::string(a));
  w.set("general.name", Value::string("random " + a + " (seed " + std::to_string(o.seed) + ")"));
  // Without a tokenizer any vocabulary size will do.
  int64_t n_vocab = o.n_vocab ? o.n_vocab : 320;
  if (o.embed_tokenizer) {
    if (std::string_view(d.tokenizer) == "llama")
      n_vocab = spm_tokenizer(w, chat_tokens(o.arch), o.n_vocab);
    else if (o.arch == "qwen2")
      n_vocab = bpe_tokenizer(w, d.tokenizer, "<|im_start|>", "<|endoftext|>", chat_tokens(o.arch),
                              o.n_vocab);
    else
      n_vocab = bpe_tokenizer(w, d.tokenizer, "<|begin_of_text|>", "<|end_of_text|>",
                              chat_tokens(o.arch), o.n_vocab);
  }

  auto u32 = [](int64_t v) { return Value::of(ValueType::u32, static_cast<uint64_t>(v)); };
  w.set(a + ".vocab_size", u32(n_vocab));
  w.set(a + ".context_length", u32(o.n_ctx));
  w.set(a + ".embedding_length", u32(o.n_embd));
  w.set(a + ".block_count", u32(o.n_layer));
  w.set(a + ".feed_forward_length", u32(o.n_ff));
  w.set(a + ".attention.head_count", u32(o.n_head));
  w.set(a + ".attention.head_count_kv", u32(o.n_head_kv));
  const int64_t head_dim = o.n_embd / o.n_head, n_rot = o.n_rot ? o.n_rot : head_dim;
  w.set(a + ".rope.dimension_count", u32(n_rot));
  w.set(a + ".rope.freq_base", Value::of(ValueType::f32, d.rope_base));
  w.set(a + ".attention.layer_norm_rms_epsilon", Value::of(ValueType::f32, d.rms_eps));

  model::Hparams h;
  h.n_vocab = n_vocab;
  h.n_embd = o.n_embd;
  h.n_layer = o.n_layer;
  h.n_ff = o.n_ff;
  h.n_head = o.n_head;
  h.n_head_kv = o.n_head_kv;
  h.head_dim = head_dim;
  h.n_rot = n_rot;
  std::mt19937_64 rng(o.seed);
  std::normal_distribution<double> weight(0.0, 0.05), norm(1.0, 0.05), bias(0.0, 0.02);
  for (const model::TensorSpec& s : model::tensor_specs(*arch, h)) {
    using R = model::TensorRole;
    if (s.role == R::rope_factors || (s.role == R::output && o.tied_output)) continue;
    int64_t n = 1;
    for (int64_t e : s.ne)
      n *= e;
    std::vector<std::byte> data;
    int32_t type = BITNET_TYPE_F32;
    if (s.role == R::weight) {
      type = o.weight_type;
      data = encode(type, n, weight, rng);
    } else if (s.role == R::embedding || s.role == R::output) {
      type = o.embedding_type;
      data = encode(type, n, weight, rng);
    } else {
      data = encode(type, n, s.role == R::norm ? norm : bias, rng);
    }
    if (Result<> r = w.add_tensor(s.name, type, s.ne, std::move(data)); !r) return r.error();
  }
  return w;
}

}  // namespace bitnet::testing
