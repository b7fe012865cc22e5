// What this x86 CPU and its OS can run, read with cpuid and xgetbv. Compiled without ISA flags:
// the host calls score() before anything else, on any machine.
#pragma once

#include <string>

namespace bitnet::cpu_avx2 {

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false;
  bool os_ymm = false;  // the OS saves YMM state (XCR0 bits 1 and 2)
  bool os_zmm = false;  // and ZMM state (XCR0 bits 5, 6, 7)
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512vnni = false;
};

CpuFeatures detect_cpu();
// "" when the AVX2 kernels can run, else what is missing.
std::string missing_for_avx2(const CpuFeatures& f);
// "" when the AVX-512 VNNI kernels can run too, else what is missing.
std::string missing_for_avx512(const CpuFeatures& f);

}  // namespace bitnet::cpu_avx2
