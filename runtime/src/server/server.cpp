#include <bitnet/runtime/log.hpp>
#include <bitnet/runtime/server/http_server.hpp>
#include <bitnet/runtime/server/routes.hpp>
#include <bitnet/runtime/server/scheduler.hpp>
#include <bitnet/runtime/server/server.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>

#include "stepper.hpp"

namespace bitnet::server {

struct Server::Impl {
  explicit Impl(ServerOptions o) : options(std::move(o)), routes(options, metrics) {}

  ServerOptions options;
  Metrics metrics;
  Routes routes;
  // Declared before the scheduler so it outlives it: the scheduler's last words (errors to
  // the jobs it still holds) are posted to connections served by this io_context.
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<Scheduler> scheduler;
  std::optional<boost::asio::signal_set> signals;
  mutable std::mutex mutex;
  std::condition_variable stop_cv;
  bool stop = false;
};

Result<std::unique_ptr<Server>> Server::start(ServerOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  Result<std::unique_ptr<HttpServer>> http =
      HttpServer::start(impl->options, impl->routes, impl->metrics);
  if (!http) return http.error();
  impl->http = std::move(*http);
  impl->signals.emplace(impl->http->io(), SIGTERM, SIGINT);
  impl->signals->async_wait([impl = impl.get()](boost::system::error_code ec, int signal) {
    if (ec) return;
    log::info("server", signal == SIGTERM ? "SIGTERM" : "SIGINT",
              ": no new connections; finishing the requests in flight");
    {
      std::lock_guard lock(impl->mutex);
      impl->stop = true;
    }
    impl->stop_cv.notify_all();
  });
  log::info("server", "listening on http://", impl->options.host, ":", impl->http->port());
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() = default;

uint16_t Server::port() const {
  return impl_->http->port();
}

bool Server::stop_requested() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->stop;
}

void Server::attach(LoadedEngine e) {
  const size_t slots = e.slots.size();
  const int64_t n_ctx = e.slots.front()->n_ctx();
  // Batched decode steps when the backend runs them (and there is more than one slot).
  std::unique_ptr<Stepper> stepper;
  const char* stepping = "one slot after another";
  if (slots > 1 && impl_->options.batch_decode) {
    if (Result<std::unique_ptr<Stepper>> b = batched_stepper(*e.model); b) {
      stepper = std::move(*b);
      stepping = "decode steps batched";
    } else {
      log::info("server", "stepping slots one after another: ", b.error().message);
    }
  }
  if (!stepper) stepper = sequential_stepper();
  impl_->scheduler =
      std::make_unique<Scheduler>(*e.tokenizer, std::move(e.slots), std::move(stepper),
                                  impl_->options.queue_limit, e.n_batch, impl_->metrics);
  Engine engine;
  engine.scheduler = impl_->scheduler.get();
  engine.tokenizer = e.tokenizer;
  if (e.chat)
    engine.chat = *e.chat;
  else
    engine.chat_problem = e.chat.error().message;
  engine.model_id = e.model_id;
  engine.created = static_cast<int64_t>(std::time(nullptr));
  impl_->routes.attach(std::move(engine));
  log::info("server", "ready: ", e.model_id, " on ", e.model->backend_name(), ", ", slots,
            " slots of ", n_ctx, " tokens (", stepping, "), queue of ", impl_->options.queue_limit);
}

void Server::wait() {
  {
    std::unique_lock lock(impl_->mutex);
    impl_->stop_cv.wait(lock, [&] { return impl_->stop; });
  }
  impl_->http->stop_accepting();
  impl_->routes.set_draining();
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + impl_->options.shutdown_timeout;
  auto idle = [&] {
    return impl_->http->in_flight() == 0 && (!impl_->scheduler || impl_->scheduler->idle());
  };
  while (!idle() && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (idle())
    log::info("server", "all requests answered; stopped");
  else
    log::warn("server", "stopping with ", impl_->http->in_flight(),
              " requests unfinished after --shutdown-timeout");
}

}  // namespace bitnet::server
