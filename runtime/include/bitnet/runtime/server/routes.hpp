// What each endpoint answers, apart from HTTP itself: authentication, /health, /metrics,
// /v1/models and the two generation endpoints, which check the request, tokenise it, and hand
// a Job to the scheduler whose text goes back whole or as server-sent events.
#pragma once

#include <bitnet/runtime/server/metrics.hpp>
#include <bitnet/runtime/server/openai_json.hpp>
#include <bitnet/runtime/server/options.hpp>
#include <bitnet/runtime/server/scheduler.hpp>
#include <bitnet/runtime/tokenizer/chat_template.hpp>
#include <bitnet/runtime/tokenizer/tokenizer.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bitnet::server {

// A request as the connection read it; the views live only during Routes::handle.
struct HttpRequest {
  std::string_view method;
  std::string_view target;
  std::string_view authorization;
  std::string_view body;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// The connection a request came on. Every method may be called from any thread; calls after
// the client went away do nothing.
class Responder {
 public:
  virtual ~Responder() = default;
  virtual void respond(unsigned status, std::string content_type, std::string body,
                       Headers headers = {}) = 0;
  // 200 with Content-Type text/event-stream; then events, then end_events.
  virtual void begin_events() = 0;
  virtual void event(std::string framed) = 0;  // one sse::event(...)
  virtual void end_events() = 0;
  // `f` runs once if the client goes away before the response is complete.
  virtual void on_disconnect(std::function<void()> f) = 0;
};

// The loaded model as the routes need it.
struct Engine {
  Scheduler* scheduler = nullptr;
  const tok::Tokenizer* tokenizer = nullptr;
  std::optional<tok::ChatTemplate> chat;  // none: the chat endpoint says why
  std::string chat_problem;
  std::string model_id;
  int64_t created = 0;  // when the model was loaded, as Unix time
};

class Routes {
 public:
  Routes(const ServerOptions& options, Metrics& metrics) : options_(options), metrics_(metrics) {}
  // From now on generation requests are served (before: 503, and /health says "loading").
  void attach(Engine engine);
  // Shutting down: new generation requests get 503, /health too.
  void set_draining() { draining_ = true; }
  void handle(const HttpRequest& request, const std::shared_ptr<Responder>& out);

 private:
  void generate(Endpoint endpoint, const HttpRequest& request,
                const std::shared_ptr<Responder>& out);
  bool authorized(std::string_view authorization) const;

  const ServerOptions& options_;
  Metrics& metrics_;
  std::atomic<std::shared_ptr<const Engine>> engine_;  // set once, read by every thread
  std::atomic<bool> draining_{false};
};

// The label /metrics counts a path under: the path for served routes, else "other".
std::string_view metrics_endpoint(std::string_view path);

}  // namespace bitnet::server
