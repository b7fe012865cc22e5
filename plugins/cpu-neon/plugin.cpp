// Entry points of cpu-neon: NEON kernels for the matmuls (int8 dot products with SDOT where the
// CPU has the dot-product extension), the portable reference code for the rest. Scores 10
// (above cpu-generic's 1) on arm64 CPUs with NEON, else 0 with the reason. On other
// architectures this file is the whole plugin: a stub that says why it cannot run, so `bitnet
// plugins` explains the missing backend instead of leaving it unmentioned.
#include <bitnet/sdk/backend.hpp>
#include <bitnet/sdk/plugin.hpp>

#include "cpu_features.hpp"
#if defined(__aarch64__)
#include "backend.hpp"
#endif

namespace {

bitnet::sdk::Score score() {
  const bitnet::cpu_neon::CpuFeatures f = bitnet::cpu_neon::detect_cpu();
  if (std::string missing = bitnet::cpu_neon::missing_for_neon(f); !missing.empty())
    return {0, missing};
  if (f.dotprod) return {10, "NEON with the dot-product extension (SDOT)"};
  return {10, "NEON without the dot-product extension: widening multiply-add int8 kernels"};
}

const void* init(const bitnet::sdk::Host&) {
#if defined(__aarch64__)
  return bitnet::sdk::backend_api<bitnet::cpu_neon::Factory>();
#else
  throw bitnet::sdk::Error(BITNET_STATUS_UNSUPPORTED,
                           bitnet::cpu_neon::missing_for_neon(bitnet::cpu_neon::detect_cpu()));
#endif
}

constexpr bitnet::sdk::PluginDefinition kPlugin{
    bitnet::sdk::make_info("cpu-neon", BITNET_PLUGIN_VERSION, BITNET_PLUGIN_KIND_BACKEND,
                           "arm64 CPU backend: NEON kernels, int8 (SDOT) ternary matmuls"),
    &score, &init};

}  // namespace

BITNET_SDK_EXPORT_PLUGIN(kPlugin)
