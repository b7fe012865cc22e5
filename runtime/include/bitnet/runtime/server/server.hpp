// `bitnet serve` as one object: the HTTP server starts listening first (GET /health answers
// "loading"), the model is attached once loaded, and SIGTERM or SIGINT begins a graceful stop:
// no new connections, in-flight requests finish (up to shutdown_timeout), then it returns.
#pragma once

#include <bitnet/runtime/error.hpp>
#include <bitnet/runtime/model/model.hpp>
#include <bitnet/runtime/model/session.hpp>
#include <bitnet/runtime/server/options.hpp>
#include <bitnet/runtime/tokenizer/chat_template.hpp>
#include <bitnet/runtime/tokenizer/tokenizer.hpp>

#include <memory>
#include <string>
#include <vector>

namespace bitnet::server {

struct LoadedEngine {
  model::Model* model = nullptr;
  const tok::Tokenizer* tokenizer = nullptr;
  Result<tok::ChatTemplate> chat = tok::ChatTemplate{};
  std::vector<std::unique_ptr<model::Session>> slots;  // one per --parallel
  int64_t n_batch = 512;
  std::string model_id;  // what /v1/models lists
};

class Server {
 public:
  // Listens, and handles SIGTERM and SIGINT from now on.
  static Result<std::unique_ptr<Server>> start(ServerOptions options);
  ~Server();

  uint16_t port() const;
  // True once SIGTERM or SIGINT arrived (then the caller may skip loading the model).
  bool stop_requested() const;
  // Serves generation requests with the loaded model from now on.
  void attach(LoadedEngine engine);
  // Blocks until SIGTERM or SIGINT, then stops gracefully.
  void wait();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bitnet::server
