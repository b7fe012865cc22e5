// Entry points of cpu-avx2: AVX2/FMA/F16C kernels for the matmuls, the portable reference code
// for the rest. Scores 10 (above cpu-generic's 1) where the CPU and OS support AVX2, FMA and
// F16C, else 0 with what is missing. This file is compiled without ISA flags.
#include <bitnet/sdk/backend.hpp>
#include <bitnet/sdk/plugin.hpp>

#include "backend.hpp"
#include "cpu_features.hpp"

namespace {

bitnet::sdk::Score score() {
  const std::string missing = bitnet::cpu_avx2::missing_for_avx2(bitnet::cpu_avx2::detect_cpu());
  if (!missing.empty()) return {0, "this CPU lacks " + missing};
  return {10, "AVX2, FMA and F16C available"};
}

const void* init(const bitnet::sdk::Host&) {
  return bitnet::sdk::backend_api<bitnet::cpu_avx2::Factory>();
}

constexpr bitnet::sdk::PluginDefinition kPlugin{
    bitnet::sdk::make_info("cpu-avx2", BITNET_PLUGIN_VERSION, BITNET_PLUGIN_KIND_BACKEND,
                           "x86-64 CPU backend: AVX2/FMA kernels, int8 ternary matmuls"),
    &score, &init};

}  // namespace

BITNET_SDK_EXPORT_PLUGIN(kPlugin)
