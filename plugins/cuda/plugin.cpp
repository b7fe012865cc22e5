// Entry points of the cuda plugin. It loads with no CUDA libraries installed (the runtime is
// linked statically); without a driver or a GPU of sm_80 or newer it scores 0 and says why.
// With one it scores 100, above every CPU backend.
#include <bitnet/sdk/backend.hpp>
#include <bitnet/sdk/plugin.hpp>

#include "backend.hpp"
#include "device.hpp"

namespace {

bitnet::sdk::Score score() {
  const bitnet::cuda::DeviceCheck d = bitnet::cuda::check_devices();
  return {d.count > 0 ? 100 : 0, d.reason};
}

const void* init(const bitnet::sdk::Host&) {
  return bitnet::sdk::backend_api<bitnet::cuda::Factory>();
}

constexpr bitnet::sdk::PluginDefinition kPlugin{
    bitnet::sdk::make_info("cuda", BITNET_PLUGIN_VERSION, BITNET_PLUGIN_KIND_BACKEND,
                           "NVIDIA GPUs (sm_80 and newer): every op and weight type, int8 "
                           "ternary matmuls"),
    &score, &init};

}  // namespace

BITNET_SDK_EXPORT_PLUGIN(kPlugin)
