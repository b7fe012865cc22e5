// One plugin source, compiled once per negotiation case with different TEST_* definitions
// (see tests/CMakeLists.txt): name, kind, the ABI it claims, its score, and how init behaves.
#include <bitnet/sdk/backend.hpp>
#include <bitnet/sdk/plugin.hpp>
#include <bitnet/sdk/tokenizer_source.hpp>

#include <filesystem>

namespace {

struct HostMemoryBackend final : bitnet::sdk::Backend {
  void props(bitnet_backend_props& out) override {
    out.device_name = "test device";
    out.alignment = 16;
    out.host_memory = 1;
  }
  bool supports(const bitnet_tensor&) override { return false; }
  std::unique_ptr<bitnet::sdk::Buffer> alloc(size_t size) override {
    return std::make_unique<bitnet::sdk::HostBuffer>(size, 16);
  }
  void compute(const bitnet_tensor* const*, size_t n) override {
    if (n) throw bitnet::sdk::Error(BITNET_STATUS_UNSUPPORTED, "test backend computes nothing");
  }
};

struct BackendFactory {
  static int device_count() { return 1; }
  static std::unique_ptr<bitnet::sdk::Backend> create(int) {
    return std::make_unique<HostMemoryBackend>();
  }
};

// Finds tokenizer.json beside the model, like the real filesystem source will.
struct SiblingSource final : bitnet::sdk::Source {
  std::optional<bitnet::sdk::SourceResult> resolve(const bitnet::sdk::Query& q,
                                                   std::string& note) override {
    if (q.model_path.empty()) return std::nullopt;
    const auto candidate = std::filesystem::path(q.model_path).parent_path() / "tokenizer.json";
    if (!std::filesystem::exists(candidate)) {
      note = candidate.string() + " does not exist";
      return std::nullopt;
    }
    return bitnet::sdk::SourceResult{BITNET_TOKENIZER_FORMAT_HF_JSON, candidate.string(), "",
                                     "beside the model"};
  }
};

struct SourceFactory {
  static std::unique_ptr<bitnet::sdk::Source> create(const char* config) {
    if (config && std::string(config) == "bad")
      throw bitnet::sdk::Error(BITNET_STATUS_INVALID_ARGUMENT, "config 'bad' refused");
    return std::make_unique<SiblingSource>();
  }
};

bitnet::sdk::Score score() {
  return {TEST_SCORE, TEST_SCORE ? "test" : "needs the frobnicator"};
}

const void* init(const bitnet::sdk::Host& host) {
  host.info("init called");
  if (TEST_INIT_FAILS) throw bitnet::sdk::Error(BITNET_STATUS_IO, "cannot open /dev/frobnicator");
  if (TEST_SMALL_TABLE) {
    static const size_t tiny = sizeof(size_t);
    return &tiny;  // a table that holds only its struct_size
  }
  if (TEST_KIND == BITNET_PLUGIN_KIND_TOKENIZER_SOURCE)
    return bitnet::sdk::source_api<SourceFactory>();
  return bitnet::sdk::backend_api<BackendFactory>();
}

constexpr bitnet::sdk::PluginDefinition kPlugin{
    bitnet::sdk::make_info(TEST_NAME, "9.9.9", TEST_KIND, "negotiation test plugin",
                           {TEST_ABI_MAJOR, TEST_ABI_MINOR}),
    &score, &init};

}  // namespace

BITNET_SDK_EXPORT_PLUGIN(kPlugin)
