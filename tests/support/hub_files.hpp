// What the test hub answers when nothing goes wrong: HF's resolve and model-info routes over a
// folder of files. No sockets here; test_hub.cpp sends the Reply (or a fault made from it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bitnet_test::hub {

std::string sha256_hex(std::string_view data);

struct Reply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Length is added on send
  std::shared_ptr<const std::string> content;                // the whole file, JSON or message
  size_t begin = 0, end = 0;  // the body is content[begin, end) (a Range picks part of a file)
  bool is_file = false;       // a file of the repo (size and sha256 below)
  int64_t file_size = 0;
  std::string sha256;

  void set_header(const std::string& name, std::string value);
  std::string_view body() const;
};

// A reply that is only a status and a short text body.
Reply status_reply(int status, std::string message);

class Files {
 public:
  explicit Files(std::filesystem::path root) : root_(std::move(root)) {}

  // The normal answer to a request; target is the raw request target (query allowed).
  Reply answer(std::string_view method, std::string_view target, std::string_view authorization,
               std::string_view range) const;

 private:
  struct Cached {
    std::filesystem::file_time_type mtime;
    std::shared_ptr<const std::string> content;
    std::string sha256;
  };
  std::pair<std::shared_ptr<const std::string>, std::string> load(
      const std::filesystem::path& path) const;

  std::filesystem::path root_;
  mutable std::mutex mu_;
  mutable std::vector<std::pair<std::filesystem::path, Cached>> cache_;
};

}  // namespace bitnet_test::hub
