// Small random HF checkpoints written the way transformers saves them: config.json,
// model.safetensors and a byte-level BPE tokenizer.json with tokenizer_config.json, for the
// converter's tests. No weights are downloaded.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

#include "../reference/hf_forward.hpp"

namespace bitnet_test {

struct HfShape {
  std::string hf_class = "LlamaForCausalLM";
  int64_t n_embd = 64, n_ff = 128, n_layer = 2, n_head = 4, n_head_kv = 2;
  bool tied = false;
  uint64_t seed = 1;
};

// Every value is exact in F32, F16 and BF16, so the dtype a tensor is stored in changes nothing.
// The embedding has a few rows more than the tokenizer has tokens, as real checkpoints often do.
bitnet::reference::HfModel random_hf_model(const HfShape& shape);

// Writes the folder, storing tensors in turn as F32, BF16 and F16. `config` entries replace
// those written from the model.
void write_hf_folder(const bitnet::reference::HfModel& model, const std::filesystem::path& dir,
                     const boost::json::object& config = {});

// A byte-level BPE tokenizer.json over `vocab` and `merges`, adding <s> and </s> after the
// vocabulary and <s> before every text, as HF's LLaMA-3-style files do.
boost::json::object byte_level_tokenizer_json(boost::json::object vocab, boost::json::array merges);

// The chat template written into tokenizer_config.json.
inline constexpr const char* kTestChatTemplate =
    "{% for m in messages %}<s>{{ m['content'] }}</s>{% endfor %}";

}  // namespace bitnet_test
