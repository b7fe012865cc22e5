#include <bitnet/runtime/thread_pool.hpp>

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace tp = bitnet::thread_pool;

BOOST_AUTO_TEST_SUITE(thread_pool)

BOOST_AUTO_TEST_CASE(every_index_runs_exactly_once) {
  std::vector<std::atomic<int>> hits(10007);
  tp::parallel_for(0, hits.size(), 13, [&](size_t b, size_t e) {
    BOOST_CHECK_LT(b, e);
    for (size_t i = b; i < e; ++i)
      hits[i].fetch_add(1);
  });
  for (auto& h : hits)
    BOOST_REQUIRE_EQUAL(h.load(), 1);
}

BOOST_AUTO_TEST_CASE(empty_range_calls_nothing) {
  bool called = false;
  tp::parallel_for(5, 5, 1, [&](size_t, size_t) { called = true; });
  BOOST_TEST(!called);
}

BOOST_AUTO_TEST_CASE(thread_count_limits_concurrency) {
  const int saved = tp::max_threads();
  tp::set_max_threads(1);
  BOOST_TEST(tp::max_threads() == 1);
  std::mutex m;
  std::set<std::thread::id> ids;
  tp::parallel_for(0, 4096, 1, [&](size_t, size_t) {
    std::lock_guard lock(m);
    ids.insert(std::this_thread::get_id());
  });
  BOOST_TEST(ids.size() == 1u);
  tp::set_max_threads(0);  // clamped to 1, never 0 threads
  BOOST_TEST(tp::max_threads() == 1);
  tp::set_max_threads(saved);
}

BOOST_AUTO_TEST_CASE(nested_calls_complete) {
  std::atomic<long> sum{0};
  tp::parallel_for(0, 8, 1, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i)
      tp::parallel_for(0, 100, 10, [&](size_t b2, size_t e2) { sum += long(e2 - b2); });
  });
  BOOST_TEST(sum.load() == 800);
}

BOOST_AUTO_TEST_SUITE_END()
