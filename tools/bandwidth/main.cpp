// `bitnet-bandwidth [--mib N] [--threads T]`: the machine's memory read bandwidth, measured the
// way a decoding backend reads weights: one pass over a buffer far larger than the caches,
// split across the host's thread pool, best of several passes.
#include <bitnet/runtime/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>

#include <sys/mman.h>

namespace {

// Sums 64-bit words; the compiler vectorises the loop, and the sum keeps it from being dropped.
uint64_t read_range(const uint64_t* p, size_t n) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  for (size_t i = 0; i + 4 <= n; i += 4) {
    a += p[i];
    b += p[i + 1];
    c += p[i + 2];
    d += p[i + 3];
  }
  return a + b + c + d;
}

}  // namespace

int main(int argc, char** argv) {
  size_t mib = 2048;
  int threads = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--mib")
      mib = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--threads")
      threads = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: bitnet-bandwidth [--mib N] [--threads T]\n");
      return 2;
    }
  }
  if (threads > 0) bitnet::thread_pool::set_max_threads(threads);
  const size_t words = mib * (1u << 20) / sizeof(uint64_t);
  // Huge pages, as the CPU backends' weight buffers use, so the two are measured alike.
  auto* raw = static_cast<uint64_t*>(std::aligned_alloc(2u << 20, words * sizeof(uint64_t)));
  if (!raw) {
    std::fprintf(stderr, "bitnet-bandwidth: cannot allocate %zu MiB\n", mib);
    return 1;
  }
  madvise(raw, words * sizeof(uint64_t), MADV_HUGEPAGE);
  std::span<uint64_t> buf(raw, words);
  for (size_t i = 0; i < words; ++i)
    buf[i] = i;
  const size_t chunk = words / static_cast<size_t>(bitnet::thread_pool::max_threads() * 16);
  std::atomic<uint64_t> sink{0};
  double best = 0;
  for (int pass = 0; pass < 6; ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    bitnet::thread_pool::parallel_for(
        0, words, chunk, [&](size_t b, size_t e) { sink += read_range(buf.data() + b, e - b); });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, static_cast<double>(words * sizeof(uint64_t)) / s / 1e9);
  }
  std::printf("read bandwidth: %.1f GB/s (%d threads, %zu MiB, best of 6; checksum %llu)\n", best,
              bitnet::thread_pool::max_threads(), mib,
              static_cast<unsigned long long>(sink.load() % 10));
  std::free(raw);
  return 0;
}
