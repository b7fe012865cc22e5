#include "cpu_features.hpp"

#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace bitnet::cpu_neon {

CpuFeatures detect_cpu() {
  CpuFeatures f;
#if defined(__aarch64__)
  const unsigned long caps = getauxval(AT_HWCAP);
  f.arm64 = true;
  f.asimd = caps & HWCAP_ASIMD;
  f.dotprod = caps & HWCAP_ASIMDDP;
#endif
  return f;
}

std::string missing_for_neon(const CpuFeatures& f) {
  if (!f.arm64)
    return "cpu-neon's kernels are Arm NEON code and run only on arm64 (AArch64) CPUs; on this "
           "machine cpu-generic or an x86 backend serves instead";
  if (!f.asimd) return "this arm64 CPU reports no Advanced SIMD (NEON) in AT_HWCAP";
  return {};
}

}  // namespace bitnet::cpu_neon
