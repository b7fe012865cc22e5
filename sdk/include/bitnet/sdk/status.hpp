// Status objects for plugins written in C++: throw bitnet::sdk::Error (or any exception) inside
// an entry point wrapped by guard(), and the caller receives a bitnet_status it frees through
// this plugin's table. Nothing is thrown across the ABI.
#pragma once

#include <bitnet/abi.h>

#include <cstdint>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

// The layout is private to each plugin (symbols are hidden), so two plugins using this header
// never see each other's objects.
struct bitnet_status {
  int32_t code;
  std::string message;
};

namespace bitnet::sdk {

class Error : public std::runtime_error {
 public:
  Error(int32_t code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int32_t code() const noexcept { return code_; }

 private:
  int32_t code_;
};

inline bitnet_status* make_status(int32_t code, const char* message) noexcept {
  try {
    return new bitnet_status{code, message};
  } catch (...) {
    // Out of memory while reporting an error: a static status keeps the code. status_destroy
    // recognises it and leaves it alone.
    static bitnet_status oom{BITNET_STATUS_OUT_OF_MEMORY, {}};
    return &oom;
  }
}

// Runs f and turns any exception into a status; nullptr when f returned normally.
template <class F>
bitnet_status* guard(F&& f) noexcept {
  try {
    std::forward<F>(f)();
    return nullptr;
  } catch (const Error& e) {
    return make_status(e.code(), e.what());
  } catch (const std::bad_alloc&) {
    return make_status(BITNET_STATUS_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return make_status(BITNET_STATUS_INTERNAL, e.what());
  } catch (...) {
    return make_status(BITNET_STATUS_INTERNAL, "unknown exception in plugin");
  }
}

inline int32_t status_code(const bitnet_status* s) noexcept {
  return s ? s->code : BITNET_STATUS_OK;
}

inline const char* status_message(const bitnet_status* s) noexcept {
  if (!s) return "";
  return s->message.empty() ? "out of memory" : s->message.c_str();
}

inline void status_destroy(bitnet_status* s) noexcept {
  if (s && !(s->code == BITNET_STATUS_OUT_OF_MEMORY && s->message.empty())) delete s;
}

// Copies a message into a fixed ABI buffer, always NUL-terminated, truncating when needed.
template <size_t N>
void copy_message(char (&dst)[N], const char* src) noexcept {
  std::strncpy(dst, src ? src : "", N - 1);
  dst[N - 1] = '\0';
}

}  // namespace bitnet::sdk
