// The process's one pool of worker threads (a oneTBB arena). Plugins reach it through the
// host-services parallel_for, so nothing in the process oversubscribes the cores.
#pragma once

#include <cstddef>
#include <functional>

namespace bitnet::thread_pool {

// Threads the pool uses; defaults to the hardware's concurrency.
int max_threads();
// Sets the thread count (>= 1) for work started afterwards.
void set_max_threads(int n);
// Runs f over chunks of [begin, end), each at least `grain` long, and waits for all of them.
void parallel_for(size_t begin, size_t end, size_t grain,
                  const std::function<void(size_t, size_t)>& f);

}  // namespace bitnet::thread_pool
