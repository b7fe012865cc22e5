// The host's services as seen from a C++ plugin: a leveled logger and a parallel-for that runs
// on the host's oneTBB pool, so a CPU plugin needs no threading library of its own.
#pragma once

#include <bitnet/abi.h>

#include <atomic>
#include <cstddef>
#include <exception>
#include <sstream>
#include <string>
#include <utility>

namespace bitnet::sdk {

class Host {
 public:
  Host() = default;
  explicit Host(const bitnet_host_services* services) : s_(services) {}

  bool enabled(int32_t level) const { return s_ && s_->log_enabled(s_->ctx, level) != 0; }

  template <class... Args>
  void log(int32_t level, Args&&... args) const {
    if (!enabled(level)) return;
    std::ostringstream out;
    (out << ... << std::forward<Args>(args));
    s_->log(s_->ctx, level, out.str().c_str());
  }
  template <class... Args>
  void debug(Args&&... args) const {
    log(BITNET_LOG_DEBUG, std::forward<Args>(args)...);
  }
  template <class... Args>
  void info(Args&&... args) const {
    log(BITNET_LOG_INFO, std::forward<Args>(args)...);
  }
  template <class... Args>
  void warn(Args&&... args) const {
    log(BITNET_LOG_WARN, std::forward<Args>(args)...);
  }

  int max_threads() const { return s_ ? s_->max_threads(s_->ctx) : 1; }

  // Calls f(begin, end) over chunks of [begin, end). Exceptions cannot cross the host's C
  // boundary, so the first one f throws is kept and rethrown here once all chunks are done.
  template <class F>
  void parallel_for(size_t begin, size_t end, size_t grain, F&& f) const {
    if (begin >= end) return;
    struct Ctx {
      F* f;
      std::exception_ptr error;
      std::atomic_flag failed = ATOMIC_FLAG_INIT;
    } ctx{&f, nullptr};
    auto trampoline = [](void* user, size_t b, size_t e) {
      auto* c = static_cast<Ctx*>(user);
      try {
        (*c->f)(b, e);
      } catch (...) {
        if (!c->failed.test_and_set()) c->error = std::current_exception();
      }
    };
    if (s_) {
      s_->parallel_for(s_->ctx, begin, end, grain ? grain : 1, trampoline, &ctx);
    } else {
      trampoline(&ctx, begin, end);
    }
    if (ctx.error) std::rethrow_exception(ctx.error);
  }

  const bitnet_host_services* services() const { return s_; }

 private:
  const bitnet_host_services* s_ = nullptr;
};

}  // namespace bitnet::sdk
