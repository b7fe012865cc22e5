#include "cpu_features.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace bitnet::cpu_avx2 {

CpuFeatures detect_cpu() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  f.fma = c & (1u << 12);
  f.f16c = c & (1u << 29);
  const bool osxsave = c & (1u << 27), avx = c & (1u << 28);
  if (osxsave && avx) {
    unsigned lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    f.os_ymm = (lo & 0x6) == 0x6;
    f.os_zmm = f.os_ymm && (lo & 0xe0) == 0xe0;
  }
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    f.avx2 = b & (1u << 5);
    f.avx512f = b & (1u << 16);
    f.avx512bw = b & (1u << 30);
    f.avx512vl = b & (1u << 31);
    f.avx512vnni = c & (1u << 11);
  }
#endif
  return f;
}

namespace {

void need(std::string& missing, bool have, const char* name) {
  if (!have) missing += missing.empty() ? name : std::string(", ") + name;
}

}  // namespace

std::string missing_for_avx512(const CpuFeatures& f) {
  std::string missing;
  need(missing, f.avx512f, "AVX-512F");
  need(missing, f.avx512bw, "AVX-512BW");
  need(missing, f.avx512vl, "AVX-512VL");
  need(missing, f.avx512vnni, "AVX-512 VNNI");
  need(missing, f.os_zmm, "OS support for AVX-512 state (XCR0)");
  return missing;
}

std::string missing_for_avx2(const CpuFeatures& f) {
  std::string missing;
  auto need = [&](bool have, const char* name) { cpu_avx2::need(missing, have, name); };
  need(f.avx2, "AVX2");
  need(f.fma, "FMA");
  need(f.f16c, "F16C");
  need(f.os_ymm, "OS support for AVX state (XCR0)");
  return missing;
}

}  // namespace bitnet::cpu_avx2
