#include "settings.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>

namespace bitnet::net {
namespace {

bool truthy(const char* v) {
  if (!v) return false;
  const std::string_view s(v);
  return !s.empty() && s != "0" && s != "false" && s != "FALSE" && s != "no" && s != "off";
}

template <class T>
Result<std::optional<T>> number(const char* name, T min, T max, std::string_view unit) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::optional<T>();
  const std::string_view s(v);
  T value{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || !(value >= min && value <= max))
    return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                      std::string(name) + "=" + std::string(s) + " is not a number of " +
                          std::string(unit) + " between " + std::to_string(min) + " and " +
                          std::to_string(max) + "; fix or unset it");
  return std::optional<T>(value);
}

}  // namespace

Result<Settings> settings_from_env() {
  Settings s;
  auto timeout = number<double>("BITNET_DOWNLOAD_TIMEOUT", 0.001, 86400.0, "seconds");
  if (!timeout) return timeout.error();
  if (*timeout)
    s.timeout = std::chrono::milliseconds(static_cast<int64_t>(std::ceil(**timeout * 1000)));
  auto retries = number<int>("BITNET_DOWNLOAD_RETRIES", 0, 100, "retries");
  if (!retries) return retries.error();
  if (*retries) s.retries = **retries;
  auto backoff = number<int64_t>("BITNET_DOWNLOAD_BACKOFF_MS", 0, 600'000, "milliseconds");
  if (!backoff) return backoff.error();
  if (*backoff) s.backoff = std::chrono::milliseconds(**backoff);
  return s;
}

std::optional<std::string> offline_variable() {
  for (const char* name : {"BITNET_OFFLINE", "HF_HUB_OFFLINE"})
    if (truthy(std::getenv(name))) return std::string(name) + "=" + std::getenv(name);
  return std::nullopt;
}

}  // namespace bitnet::net
