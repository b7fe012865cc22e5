// A one-line progress bar (percent, bytes, rate, ETA) on stderr, drawn only when stderr is a
// terminal, so that logs and pipes never see it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace bitnet::net {

class Progress {
 public:
  Progress(bool wanted, std::string label);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // A body starts: `done` bytes are already there (resume) of `total` (0: unknown).
  void start(int64_t done, int64_t total);
  void advance(int64_t bytes);
  void finish();  // ends the line

 private:
  void draw(bool force);
  bool enabled_;
  std::string label_;
  int64_t done_ = 0, total_ = 0, resumed_at_ = 0;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point started_, last_draw_;
};

// "12.3 MiB"
std::string human_bytes(double bytes);

}  // namespace bitnet::net
