// The runtime's error type: a status code (the ABI's codes) and a message that says what was
// wrong, where, and what to do. Functions return Result<T>; only the CLI edge throws.
#pragma once

#include <bitnet/abi.h>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <stdexcept>
#include <string>
#include <utility>

namespace bitnet {

struct Error {
  // Not an aggregate: C++20 would otherwise let an integer convert to Error, which makes
  // Result<size_t> ambiguous to construct from a value.
  Error() = default;
  Error(int32_t c, std::string m) : code(c), message(std::move(m)) {}
  int32_t code = BITNET_STATUS_INTERNAL;
  std::string message;
};

// Thrown only by Result::value() on an error; the CLI catches it and exits 1.
class RuntimeError : public std::runtime_error {
 public:
  explicit RuntimeError(Error e) : std::runtime_error(e.message), error_(std::move(e)) {}
  const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

// Found by boost::system::result through ADL.
[[noreturn]] inline void throw_exception_from_error(const Error& e, const boost::source_location&) {
  throw RuntimeError(e);
}

template <class T = void>
using Result = boost::system::result<T, Error>;

inline Error make_error(int32_t code, std::string message) {
  return Error{code, std::move(message)};
}

}  // namespace bitnet
