// The CLI's subcommand table. Adding a subcommand: write commands/<name>.cpp with a
// `int run_<name>(const Args&)` and add one line to commands.cpp.
#pragma once

#include <boost/program_options.hpp>

#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bitnet::cli {

// Exit codes, as documented in `bitnet --help`.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntimeError = 1;
inline constexpr int kExitUsageError = 2;

// A wrong command line; main prints it with a hint and exits 2.
class UsageError : public std::runtime_error {
 public:
  explicit UsageError(const std::string& message,
                      std::string hint = "run `bitnet --help` for the commands")
      : std::runtime_error(message), hint_(std::move(hint)) {}
  const std::string& hint() const noexcept { return hint_; }

 private:
  std::string hint_;
};

struct Args {
  std::string command;            // the subcommand's name
  std::vector<std::string> argv;  // what followed it
};

struct Command {
  std::string_view name;
  std::string_view summary;
  int (*run)(const Args& args);
};

std::span<const Command> commands();

// Parses a subcommand's arguments. Adds --help; returns false when help was printed, so the
// caller returns kExitOk. Unknown options and bad values throw program_options errors.
bool parse(const Args& args, std::string_view usage,
           boost::program_options::options_description& options,
           boost::program_options::variables_map& vm,
           const boost::program_options::positional_options_description* positional = nullptr);

}  // namespace bitnet::cli
