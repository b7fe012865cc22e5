// The settings of `bitnet serve` that the HTTP side and the scheduler read.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace bitnet::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;     // 0: any free port (the log line says which)
  int parallel = 4;         // sequences decoded together, each with its own KV cache
  size_t queue_limit = 64;  // requests waiting for a slot; one more is answered 429
  std::string api_key;      // empty: no authentication
  size_t max_body_bytes = 1 << 20;
  // A request (headers and body) must arrive whole within this time: a client trickling
  // bytes cannot hold a connection open forever.
  std::chrono::milliseconds read_timeout{10'000};
  // A client must accept each piece of a response within this time, or it is dropped and
  // its slot freed.
  std::chrono::milliseconds write_timeout{30'000};
  // SIGTERM waits this long for in-flight requests before cutting them off.
  std::chrono::milliseconds shutdown_timeout{30'000};
  int http_threads = 2;
  // Decode steps of the busy slots in one graph when the backend can (false: one slot after
  // another, for comparison).
  bool batch_decode = true;
};

}  // namespace bitnet::server
