#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace bitnet::net {

std::string human_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, kUnits[unit]);
  return buf;
}

Progress::Progress(bool wanted, std::string label)
    : enabled_(wanted && ::isatty(STDERR_FILENO) == 1), label_(std::move(label)) {}

Progress::~Progress() {
  finish();
}

void Progress::start(int64_t done, int64_t total) {
  done_ = resumed_at_ = done;
  total_ = total;
  started_ = std::chrono::steady_clock::now();
  draw(true);
}

void Progress::advance(int64_t bytes) {
  done_ += bytes;
  draw(false);
}

void Progress::finish() {
  if (!enabled_ || !drawn_) return;
  draw(true);
  std::fputc('\n', stderr);
  drawn_ = false;
}

void Progress::draw(bool force) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  drawn_ = true;
  const double elapsed = std::chrono::duration<double>(now - started_).count();
  const double rate = elapsed > 0.05 ? static_cast<double>(done_ - resumed_at_) / elapsed : 0;
  std::string line = "\r" + label_ + "  " + human_bytes(static_cast<double>(done_));
  if (total_ > 0) {
    char pct[16];
    std::snprintf(pct, sizeof pct, " %3d%%", static_cast<int>(100.0 * done_ / total_));
    line += " / " + human_bytes(static_cast<double>(total_)) + pct;
  }
  if (rate > 0) {
    line += "  " + human_bytes(rate) + "/s";
    if (total_ > done_) {
      const auto eta = static_cast<int64_t>(static_cast<double>(total_ - done_) / rate);
      char buf[32];
      std::snprintf(buf, sizeof buf, "  ETA %lld:%02lld", static_cast<long long>(eta / 60),
                    static_cast<long long>(eta % 60));
      line += buf;
    }
  }
  line += "\033[K";
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace bitnet::net
