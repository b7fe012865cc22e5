// Runs the built `bitnet` executable the way a user does, for the CLI tests.
#pragma once

#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace bitnet_test {

struct Run {
  int exit_code;
  std::string out;  // stdout, then stderr
};

inline std::string slurp(FILE* f) {
  std::string text;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, f))
    text.append(buf, n);
  return text;
}

// Runs the CLI with stderr kept apart, so JSON on stdout parses whatever is logged.
inline Run run_cli(const std::string& args, const std::string& env = "") {
  char err_path[] = "/tmp/bitnet-cli-stderr-XXXXXX";
  const int fd = mkstemp(err_path);
  BOOST_REQUIRE(fd >= 0);
  close(fd);
  const std::string cmd = env + " '" BITNET_CLI "' " + args + " 2>" + err_path;
  FILE* p = popen(cmd.c_str(), "r");
  BOOST_REQUIRE(p);
  Run r{0, slurp(p)};
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (FILE* err = fopen(err_path, "r")) {
    r.out += slurp(err);
    fclose(err);
  }
  unlink(err_path);
  return r;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace bitnet_test
