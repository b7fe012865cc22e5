// What GET /metrics reports, in Prometheus' text format: requests by endpoint and status,
// prompt and generated tokens, queue depth and busy slots, and histograms of the time to the
// first token and between tokens. Every method is thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bitnet::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  // `name`_bucket{le=..}, `name`_sum and `name`_count lines.
  void render(std::string& out, std::string_view name, std::string_view help) const;

 private:
  mutable std::mutex mutex_;
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; the last is +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

class Metrics {
 public:
  Metrics();
  // `endpoint` is the route's path, or "other" for paths the server does not serve, so
  // stray URLs cannot grow the label set.
  void count_request(std::string_view endpoint, unsigned status);
  void add_prompt_tokens(int64_t n) { prompt_tokens_ += n; }
  void add_generated_tokens(int64_t n) { generated_tokens_ += n; }
  void count_cancelled() { ++cancelled_; }
  void set_queue(int64_t queued, int64_t busy_slots) {
    queued_ = queued;
    busy_ = busy_slots;
  }
  void set_slots(int64_t slots) { slots_ = slots; }
  void observe_time_to_first_token(double seconds) { ttft_.observe(seconds); }
  void observe_token_latency(double seconds) { token_latency_.observe(seconds); }

  std::string render() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, unsigned>, uint64_t> requests_;
  std::atomic<int64_t> prompt_tokens_{0}, generated_tokens_{0}, cancelled_{0};
  std::atomic<int64_t> queued_{0}, busy_{0}, slots_{0};
  Histogram ttft_, token_latency_;
};

}  // namespace bitnet::server
