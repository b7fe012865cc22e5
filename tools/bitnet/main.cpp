// bitnet: the command-line edge. Errors inside the runtime are values; here they become
// messages and exit codes (0 ok, 1 runtime error, 2 usage error).
#include <bitnet/abi.h>
#include <bitnet/runtime/error.hpp>
#include <bitnet/runtime/log.hpp>
#include <bitnet/runtime/version.hpp>

#include <cstring>
#include <exception>
#include <iostream>
#include <string>

#include "command.hpp"

namespace {

using namespace bitnet::cli;

void print_help() {
  std::cout << "usage: bitnet [--version] [--help] [--log LEVEL] <command> [options]\n\n"
               "commands:\n";
  for (const Command& c : commands()) {
    std::string name(c.name);
    name.resize(14, ' ');
    std::cout << "  " << name << c.summary << "\n";
  }
  std::cout << "\n`bitnet <command> --help` shows a command's options.\n"
               "environment: BITNET_LOG (trace, debug, info, warn, error, off),\n"
               "             BITNET_PLUGIN_PATH (colon-separated plugin files or directories)\n"
               "exit codes: 0 ok, 1 runtime error, 2 usage error\n";
}

int dispatch(int argc, char** argv) {
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      print_help();
      return kExitOk;
    }
    if (arg == "--version" || arg == "-V") {
      std::cout << "bitnet " << bitnet::kVersion << " (plugin ABI " << BITNET_ABI_MAJOR << "."
                << BITNET_ABI_MINOR << ")\n";
      return kExitOk;
    }
    if (arg == "--log") {
      if (i + 1 >= argc) throw UsageError("--log needs a level");
      const auto level = bitnet::log::parse_level(argv[++i]);
      if (!level)
        throw UsageError(std::string("--log ") + argv[i] +
                         ": use one of trace, debug, info, warn, error, off");
      bitnet::log::set_level(*level);
      continue;
    }
    throw UsageError("unknown option '" + arg + "'");
  }
  if (i >= argc) throw UsageError("no command given");
  Args args{argv[i], {argv + i + 1, argv + argc}};
  for (const Command& c : commands()) {
    if (c.name != args.command) continue;
    try {
      return c.run(args);
    } catch (const boost::program_options::error& e) {
      throw UsageError(args.command + ": " + e.what(),
                       "run `bitnet " + args.command + " --help` for its options");
    }
  }
  throw UsageError("unknown command '" + args.command + "'");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return dispatch(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "bitnet: " << e.what() << "\n" << e.hint() << "\n";
    return kExitUsageError;
  } catch (const bitnet::RuntimeError& e) {
    std::cerr << "bitnet: error: " << e.what() << "\n";
    return kExitRuntimeError;
  } catch (const std::exception& e) {
    std::cerr << "bitnet: error: " << e.what() << "\n";
    return kExitRuntimeError;
  }
}
