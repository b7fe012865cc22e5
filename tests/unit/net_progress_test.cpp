// The download progress bar: drawn on a terminal (size, percent, rate, ETA), never elsewhere.
#include "net/progress.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

using bitnet::net::human_bytes;
using bitnet::net::Progress;

namespace {

// stderr pointed at a pseudo-terminal while it lives; text() reads what reached it.
class TerminalStderr {
 public:
  TerminalStderr() {
    BOOST_REQUIRE(::openpty(&master_, &slave_, nullptr, nullptr, nullptr) == 0);
    std::fflush(stderr);
    saved_ = ::dup(STDERR_FILENO);
    ::dup2(slave_, STDERR_FILENO);
  }
  ~TerminalStderr() {
    restore();
    ::close(slave_);
    ::close(master_);
  }
  std::string text() {
    restore();
    std::string out;
    char buf[4096];
    pollfd p{master_, POLLIN, 0};
    while (::poll(&p, 1, 100) > 0 && (p.revents & POLLIN)) {
      const ssize_t n = ::read(master_, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    saved_ = -1;
  }
  int master_ = -1, slave_ = -1, saved_ = -1;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(net_progress)

BOOST_AUTO_TEST_CASE(sizes_read_in_binary_units) {
  BOOST_TEST(human_bytes(512) == "512 B");
  BOOST_TEST(human_bytes(1536) == "1.5 KiB");
  BOOST_TEST(human_bytes(3.0 * 1024 * 1024 * 1024) == "3.0 GiB");
}

BOOST_AUTO_TEST_CASE(a_terminal_sees_size_percent_rate_and_eta) {
  TerminalStderr term;
  {
    Progress bar(true, "model.gguf");
    bar.start(1024 * 1024, 4 * 1024 * 1024);
    std::this_thread::sleep_for(std::chrono::milliseconds(120));
    bar.advance(1024 * 1024);
  }
  const std::string shown = term.text();
  BOOST_TEST(shown.find("\rmodel.gguf") != std::string::npos, shown);
  BOOST_TEST(shown.find("2.0 MiB / 4.0 MiB  50%") != std::string::npos, shown);
  BOOST_TEST(shown.find("MiB/s") != std::string::npos, shown);
  BOOST_TEST(shown.find("ETA 0:0") != std::string::npos, shown);
}

BOOST_AUTO_TEST_CASE(nothing_is_drawn_unless_asked) {
  TerminalStderr term;
  {
    Progress bar(false, "model.gguf");
    bar.start(0, 100);
    bar.advance(100);
  }
  BOOST_TEST(term.text().empty());
}

BOOST_AUTO_TEST_SUITE_END()
