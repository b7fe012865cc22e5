// `bitnet serve --model M`: an OpenAI-compatible HTTP server (runtime/src/server). It listens
// first, so /health can say "loading" while the model loads, then serves until SIGTERM or
// SIGINT, after which it finishes the requests in flight and exits 0.
#include <bitnet/runtime/log.hpp>
#include <bitnet/runtime/server/server.hpp>
#include <bitnet/runtime/tokenizer/chat_template.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "../command.hpp"
#include "model_setup.hpp"

namespace bitnet::cli {

namespace {

std::chrono::milliseconds seconds_option(const boost::program_options::variables_map& vm,
                                         const char* name) {
  const double s = vm[name].as<double>();
  if (!(s > 0) || !std::isfinite(s)) throw UsageError(std::string("--") + name + " must be > 0");
  return std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
}

server::ServerOptions server_options(const boost::program_options::variables_map& vm) {
  server::ServerOptions o;
  o.host = vm["host"].as<std::string>();
  const int port = vm["port"].as<int>();
  if (port < 0 || port > 65535) throw UsageError("--port must be in 0..65535");
  o.port = static_cast<uint16_t>(port);
  o.parallel = vm["parallel"].as<int>();
  if (o.parallel < 1 || o.parallel > 256) throw UsageError("--parallel must be in 1..256");
  const int queue = vm["queue"].as<int>();
  if (queue < 0) throw UsageError("--queue must be >= 0");
  o.queue_limit = static_cast<size_t>(queue);
  const int64_t body = vm["max-body"].as<int64_t>();
  if (body < 1) throw UsageError("--max-body must be at least 1 byte");
  o.max_body_bytes = static_cast<size_t>(body);
  o.read_timeout = seconds_option(vm, "read-timeout");
  o.write_timeout = seconds_option(vm, "write-timeout");
  o.shutdown_timeout = seconds_option(vm, "shutdown-timeout");
  o.batch_decode = !vm.count("no-batch-decode");
  if (vm.count("api-key"))
    o.api_key = vm["api-key"].as<std::string>();
  else if (const char* env = std::getenv("BITNET_API_KEY"))
    o.api_key = env;
  return o;
}

}  // namespace

int run_serve(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("options");
  add_model_options(options);
  options.add_options()("host", po::value<std::string>()->default_value("127.0.0.1"),
                        "address to listen on")("port", po::value<int>()->default_value(8080),
                                                "port to listen on (0: any free port)")(
      "parallel", po::value<int>()->default_value(4),
      "sequences generated together, each with its own KV cache of --ctx tokens")(
      "queue", po::value<int>()->default_value(64),
      "requests that may wait for a free sequence; more are answered 429")(
      "api-key", po::value<std::string>(),
      "require 'Authorization: Bearer KEY' (also BITNET_API_KEY, which other users cannot see "
      "in the process list)")("max-body", po::value<int64_t>()->default_value(1 << 20),
                              "largest request body in bytes")(
      "read-timeout", po::value<double>()->default_value(10),
      "seconds a request may take to arrive (408 after)")(
      "write-timeout", po::value<double>()->default_value(30),
      "seconds a client may take to accept a piece of the response")(
      "shutdown-timeout", po::value<double>()->default_value(30),
      "seconds SIGTERM waits for requests in flight")(
      "no-batch-decode", "step the slots one after another instead of in one graph per step")(
      "chat-template", po::value<std::string>(),
      ("the chat format for /v1/chat/completions: " + tok::chat_format_names() +
       "; default: the tokenizer's chat_template, else the architecture's")
          .c_str());
  po::variables_map vm;
  if (!parse(args, "[--model M.gguf] [--host H] [--port P] [--parallel N] [options]", options, vm))
    return kExitOk;
  const server::ServerOptions so = server_options(vm);

  Result<std::unique_ptr<server::Server>> srv = server::Server::start(so);
  if (!srv) {
    std::cerr << "bitnet serve: " << srv.error().message << "\n";
    return kExitRuntimeError;
  }
  Result<LoadedModel> loaded = load_model(vm);
  if (!loaded) {
    std::cerr << "bitnet serve: " << loaded.error().message << "\n";
    return kExitRuntimeError;
  }
  if ((*srv)->stop_requested()) return kExitOk;

  server::LoadedEngine engine;
  engine.model = loaded->model.get();
  engine.tokenizer = loaded->tokenizer.get();
  engine.n_batch = vm["batch"].as<int64_t>();
  engine.model_id = std::filesystem::path(loaded->path).stem().string();
  engine.chat = tok::choose_chat_template(
      vm.count("chat-template") ? vm["chat-template"].as<std::string>() : "",
      loaded->tokenizer->vocab(), loaded->model->arch().name);
  const int64_t n_ctx = loaded->session->n_ctx();
  engine.slots.push_back(std::move(loaded->session));
  while (engine.slots.size() < static_cast<size_t>(so.parallel)) {
    Result<model::Session> s = model::Session::create(*loaded->model, n_ctx, engine.n_batch);
    if (!s) {
      std::cerr << "bitnet serve: sequence " << engine.slots.size() + 1 << " of --parallel "
                << so.parallel << ": " << s.error().message << "\n";
      return kExitRuntimeError;
    }
    engine.slots.push_back(std::make_unique<model::Session>(std::move(*s)));
  }
  (*srv)->attach(std::move(engine));
  (*srv)->wait();
  return kExitOk;
}

}  // namespace bitnet::cli
