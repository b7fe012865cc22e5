#include <bitnet/runtime/thread_pool.hpp>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <memory>
#include <mutex>

namespace bitnet::thread_pool {
namespace {

struct Pool {
  std::mutex mutex;
  int threads = std::max(1, tbb::info::default_concurrency());
  std::shared_ptr<tbb::task_arena> arena = std::make_shared<tbb::task_arena>(threads);
};

Pool& pool() {
  static Pool p;
  return p;
}

std::shared_ptr<tbb::task_arena> arena() {
  std::lock_guard lock(pool().mutex);
  return pool().arena;
}

}  // namespace

int max_threads() {
  std::lock_guard lock(pool().mutex);
  return pool().threads;
}

void set_max_threads(int n) {
  n = std::max(1, n);
  std::lock_guard lock(pool().mutex);
  if (n == pool().threads) return;
  // Work already running keeps the arena it holds a reference to.
  pool().threads = n;
  pool().arena = std::make_shared<tbb::task_arena>(n);
}

void parallel_for(size_t begin, size_t end, size_t grain,
                  const std::function<void(size_t, size_t)>& f) {
  if (begin >= end) return;
  auto a = arena();
  a->execute([&] {
    tbb::parallel_for(tbb::blocked_range<size_t>(begin, end, std::max<size_t>(grain, 1)),
                      [&](const tbb::blocked_range<size_t>& r) { f(r.begin(), r.end()); });
  });
}

}  // namespace bitnet::thread_pool
