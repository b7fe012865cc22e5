// Entry points of cpu-generic: the portable reference backend. It runs on any CPU, so it always
// scores 1, the lowest non-zero score: every specialised backend outranks it.
#include <bitnet/sdk/backend.hpp>
#include <bitnet/sdk/plugin.hpp>

#include "reference_backend.hpp"

namespace {

bitnet::sdk::Score score() {
  return {1, "portable reference; runs on any CPU"};
}

const void* init(const bitnet::sdk::Host&) {
  return bitnet::sdk::backend_api<bitnet::cpu_generic::Factory>();
}

constexpr bitnet::sdk::PluginDefinition kPlugin{
    bitnet::sdk::make_info("cpu-generic", BITNET_PLUGIN_VERSION, BITNET_PLUGIN_KIND_BACKEND,
                           "portable reference CPU backend; the correctness anchor"),
    &score, &init};

}  // namespace

BITNET_SDK_EXPORT_PLUGIN(kPlugin)
