// embedded-gguf: the tokenizer a GGUF carries in its own tokenizer.ggml.* metadata. The host
// has already read the file, so the plugin answers from what the query says about it.
#include <bitnet/sdk/plugin.hpp>
#include <bitnet/sdk/tokenizer_source.hpp>

namespace {

struct EmbeddedSource final : bitnet::sdk::Source {
  std::optional<bitnet::sdk::SourceResult> resolve(const bitnet::sdk::Query& q,
                                                   std::string& note) override {
    if (q.model_path.empty()) {
      note = "no model file was given";
      return std::nullopt;
    }
    if (q.embedded_tokens <= 0) {
      note = "the model carries no tokenizer.ggml.tokens";
      return std::nullopt;
    }
    return bitnet::sdk::SourceResult{
        BITNET_TOKENIZER_FORMAT_GGUF, q.model_path, "",
        "the model's own metadata (" + std::to_string(q.embedded_tokens) + " tokens)"};
  }
};

struct Factory {
  static std::unique_ptr<bitnet::sdk::Source> create(const char*) {
    return std::make_unique<EmbeddedSource>();
  }
};

bitnet::sdk::Score score() {
  return {10, "reads metadata the host already parsed"};
}

const void* init(const bitnet::sdk::Host&) {
  return bitnet::sdk::source_api<Factory>();
}

constexpr bitnet::sdk::PluginDefinition kPlugin{
    bitnet::sdk::make_info("embedded-gguf", BITNET_PLUGIN_VERSION,
                           BITNET_PLUGIN_KIND_TOKENIZER_SOURCE,
                           "the tokenizer embedded in the GGUF's tokenizer.ggml.* metadata"),
    &score, &init};

}  // namespace

BITNET_SDK_EXPORT_PLUGIN(kPlugin)
