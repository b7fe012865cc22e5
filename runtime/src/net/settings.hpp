// The download settings the environment gives: timeouts, retries, backoff, offline mode.
#pragma once

#include <bitnet/runtime/error.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace bitnet::net {

struct Settings {
  std::chrono::milliseconds timeout{30'000};  // BITNET_DOWNLOAD_TIMEOUT, seconds
  int retries = 4;                            // BITNET_DOWNLOAD_RETRIES
  std::chrono::milliseconds backoff{500};     // BITNET_DOWNLOAD_BACKOFF_MS, doubled per retry
};

// Read at each download so that a test (or a long-lived process) may change them.
Result<Settings> settings_from_env();

// The variable that forbids the network (BITNET_OFFLINE=1 or HF_HUB_OFFLINE=1), if one does.
std::optional<std::string> offline_variable();

}  // namespace bitnet::net
