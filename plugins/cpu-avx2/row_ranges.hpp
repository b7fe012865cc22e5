// Work by rows over the host's threads (the row-wise ops, activation quantisation): a few large
// ranges of rows, and no parallel_for at all for work too small to repay waking the pool (a
// decode step's single rows).
#pragma once

#include <bitnet/backend.h>
#include <bitnet/sdk/plugin.hpp>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "../cpu-generic/tensor_access.hpp"

namespace bitnet::cpu_avx2 {

// Below this many elements an op runs on the calling thread. A 2- and a 4-token prefill of
// 2B4T (5K and 10K elements per op) measured the same split or not (within 3%), so small work
// leaves the pool asleep; a decode step's single rows are never split.
constexpr int64_t kParallelElements = int64_t{1} << 14;

// f(begin, end) over ranges that cover rows [0, n) of `width` elements each; every range but
// the last is a multiple of `step` rows long.
template <class F>
void for_ranges(int64_t n, int64_t width, int64_t step, F&& f) {
  const int64_t threads = sdk::plugin_host().max_threads();
  if (threads < 2 || n < 2 || n * width < kParallelElements) return f(int64_t{0}, n);
  // Two ranges per thread let a thread that was busy elsewhere fall behind without idling
  // the other; more would only add scheduling.
  int64_t chunk = (n + 2 * threads - 1) / (2 * threads);
  chunk = (chunk + step - 1) / step * step;
  const auto chunks = static_cast<size_t>((n + chunk - 1) / chunk);
  sdk::plugin_host().parallel_for(0, chunks, 1, [&](size_t b, size_t e) {
    f(static_cast<int64_t>(b) * chunk, std::min(n, static_cast<int64_t>(e) * chunk));
  });
}

// for_ranges over the rows of t, flattened as cpu_generic::unflatten numbers them.
template <class F>
void for_row_ranges(const bitnet_tensor& t, int64_t step, F&& f) {
  for_ranges(cpu_generic::rows(t), t.ne[0], step, std::forward<F>(f));
}

// cpu_generic::for_rows's f(i1, i2, i3) for every row of t, split as for_row_ranges splits
// them (for_rows makes a task of every row, and wakes the pool for a decode step's single one).
template <class F>
void for_each_row(const bitnet_tensor& t, F&& f) {
  for_row_ranges(t, 1, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      int64_t i1, i2, i3;
      cpu_generic::unflatten(t, r, i1, i2, i3);
      f(i1, i2, i3);
    }
  });
}

}  // namespace bitnet::cpu_avx2
