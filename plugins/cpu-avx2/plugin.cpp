// Entry points of cpu-avx2: AVX2/FMA/F16C kernels for the matmuls, the portable reference code
// for the rest. Scores 10 (above cpu-generic's 1) where the CPU and OS support AVX2, FMA and
// F16C, else 0 with what is missing. This file is compiled without ISA flags.
#include <bitnet/sdk/backend.hpp>
#include <bitnet/sdk/plugin.hpp>

#include "backend.hpp"
#include "cpu_features.hpp"

namespace {

// The same sources build two plugins: cpu-avx2, and cpu-avx512 whose ternary kernels use
// AVX-512 VNNI and which outranks it where the CPU has that.
#if BITNET_CPU_AVX512
constexpr const char* kName = "cpu-avx512";
constexpr const char* kDescription =
    "x86-64 CPU backend: AVX2/FMA kernels, AVX-512 VNNI ternary matmuls";
#else
constexpr const char* kName = "cpu-avx2";
constexpr const char* kDescription = "x86-64 CPU backend: AVX2/FMA kernels, int8 ternary matmuls";
#endif

bitnet::sdk::Score score() {
  const bitnet::cpu_avx2::CpuFeatures f = bitnet::cpu_avx2::detect_cpu();
  std::string missing = bitnet::cpu_avx2::missing_for_avx2(f);
#if BITNET_CPU_AVX512
  const std::string more = bitnet::cpu_avx2::missing_for_avx512(f);
  if (!more.empty()) missing += (missing.empty() ? "" : ", ") + more;
  if (!missing.empty()) return {0, "this CPU lacks " + missing};
  return {20, "AVX-512 F/BW/VL/VNNI available"};
#else
  if (!missing.empty()) return {0, "this CPU lacks " + missing};
  return {10, "AVX2, FMA and F16C available"};
#endif
}

const void* init(const bitnet::sdk::Host&) {
  return bitnet::sdk::backend_api<bitnet::cpu_avx2::Factory>();
}

constexpr bitnet::sdk::PluginDefinition kPlugin{
    bitnet::sdk::make_info(kName, BITNET_PLUGIN_VERSION, BITNET_PLUGIN_KIND_BACKEND, kDescription),
    &score, &init};

}  // namespace

BITNET_SDK_EXPORT_PLUGIN(kPlugin)
