#include <bitnet/runtime/server/metrics.hpp>

#include <cstdio>

namespace bitnet::server {
namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void header(std::string& out, std::string_view name, std::string_view help, std::string_view type) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void scalar(std::string& out, std::string_view name, std::string_view help, std::string_view type,
            int64_t value) {
  header(out, name, help, type);
  out.append(name).append(" ").append(std::to_string(value)).append("\n");
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  std::lock_guard lock(mutex_);
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i])
    ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void Histogram::render(std::string& out, std::string_view name, std::string_view help) const {
  std::lock_guard lock(mutex_);
  header(out, name, help, "histogram");
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i];
    out.append(name).append("_bucket{le=\"");
    out.append(i < bounds_.size() ? number(bounds_[i]) : "+Inf");
    out.append("\"} ").append(std::to_string(cumulative)).append("\n");
  }
  out.append(name).append("_sum ").append(number(sum_)).append("\n");
  out.append(name).append("_count ").append(std::to_string(count_)).append("\n");
}

Metrics::Metrics()
    : ttft_({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}),
      token_latency_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}) {}

void Metrics::count_request(std::string_view endpoint, unsigned status) {
  std::lock_guard lock(mutex_);
  ++requests_[{std::string(endpoint), status}];
}

std::string Metrics::render() const {
  std::string out;
  header(out, "bitnet_requests_total", "HTTP requests answered, by endpoint and status", "counter");
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, n] : requests_)
      out.append("bitnet_requests_total{endpoint=\"")
          .append(key.first)
          .append("\",status=\"")
          .append(std::to_string(key.second))
          .append("\"} ")
          .append(std::to_string(n))
          .append("\n");
  }
  scalar(out, "bitnet_prompt_tokens_total", "prompt tokens evaluated", "counter", prompt_tokens_);
  scalar(out, "bitnet_generated_tokens_total", "tokens generated", "counter", generated_tokens_);
  scalar(out, "bitnet_cancelled_requests_total", "requests dropped because the client went away",
         "counter", cancelled_);
  scalar(out, "bitnet_queue_depth", "requests waiting for a slot", "gauge", queued_);
  scalar(out, "bitnet_busy_slots", "slots generating now", "gauge", busy_);
  scalar(out, "bitnet_slots", "slots (--parallel)", "gauge", slots_);
  ttft_.render(out, "bitnet_time_to_first_token_seconds",
               "from a request's arrival in the queue to its first generated token");
  token_latency_.render(out, "bitnet_token_latency_seconds",
                        "between consecutive generated tokens of one request");
  return out;
}

}  // namespace bitnet::server
