// What this Arm CPU can run, as the kernel reports it through the auxiliary vector. Compiled
// without ISA flags: the host calls score() before anything else.
#pragma once

#include <string>

namespace bitnet::cpu_neon {

struct CpuFeatures {
  bool arm64 = false;    // this build runs on AArch64
  bool asimd = false;    // Advanced SIMD (NEON)
  bool dotprod = false;  // SDOT/UDOT (Armv8.2 dot-product extension)
};

CpuFeatures detect_cpu();
// "" when the NEON kernels can run, else why not.
std::string missing_for_neon(const CpuFeatures& f);

}  // namespace bitnet::cpu_neon
