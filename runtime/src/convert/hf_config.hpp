// Private to the converter: a HF config.json read into the runtime's architecture and
// hyperparameters, with every problem reported at once.
#pragma once

#include <bitnet/runtime/error.hpp>
#include <bitnet/runtime/model/architecture.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace bitnet::convert {

struct HfConfig {
  std::string hf_class;  // architectures[0], e.g. LlamaForCausalLM
  const model::ArchSpec* arch = nullptr;
  model::Hparams h;   // n_vocab is left 0: the embedding's rows give it
  bool tied = false;  // tie_word_embeddings
  std::optional<int64_t> sliding_window;
  std::string name;
};

// `arch_override`: a runtime architecture name (`--arch`) used instead of the one the
// config's "architectures" maps to.
Result<HfConfig> read_hf_config(const std::filesystem::path& config_json,
                                std::string_view arch_override);

}  // namespace bitnet::convert
