// Runs the built `bitnet` executable the way a user does, and writes the generated models it
// runs on, for the CLI tests.
#pragma once

#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "random_model.hpp"

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

// Writes a generated model to `path` (failing the test with the generator's message).
inline std::string write_random_model(const std::filesystem::path& path,
                                      const bitnet::testing::RandomModelOptions& o) {
  auto w = bitnet::testing::random_model(o);
  BOOST_REQUIRE_MESSAGE(w.has_value(), (w ? "" : w.error().message));
  BOOST_REQUIRE(w->write(path));
  return path.string();
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace bitnet_test
