#include <bitnet/runtime/log.hpp>
#include <bitnet/runtime/server/routes.hpp>
#include <bitnet/runtime/server/sse.hpp>

#include <ctime>
#include <random>
#include <utility>

namespace bitnet::server {
namespace {

constexpr const char* kJson = "application/json";

void send_error(Responder& out, const ApiError& e, Headers headers = {}) {
  out.respond(e.status, kJson, error_body(e), std::move(headers));
}

ApiError api_error(unsigned status, std::string message, std::string type, std::string code) {
  return ApiError{status, std::move(message), std::move(type), std::move(code), {}};
}

std::string random_id(std::string_view prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(prefix);
  for (int i = 0; i < 24; ++i)
    id += kHex[rng() & 15];
  return id;
}

// Collects the whole text and answers once the job is done.
class WholeReply final : public JobListener {
 public:
  WholeReply(std::shared_ptr<Responder> out, ReplyMeta meta)
      : out_(std::move(out)), meta_(std::move(meta)) {}
  void on_text(std::string_view text, std::span<const TokenLogprob> logprobs) override {
    text_ += text;
    logprobs_.insert(logprobs_.end(), logprobs.begin(), logprobs.end());
  }
  void on_done(std::string_view finish_reason, const Usage& usage) override {
    out_->respond(200, kJson, full_response(meta_, text_, finish_reason, usage, logprobs_));
  }
  void on_error(const Error& error) override {
    send_error(*out_, api_error(500, error.message, "server_error", "generation_failed"));
  }

 private:
  std::shared_ptr<Responder> out_;
  ReplyMeta meta_;
  std::string text_;
  std::vector<TokenLogprob> logprobs_;
};

// Sends each piece of text as a chunk event, then the finish reason, usage and [DONE]. The
// event stream begins with the first of these, on the scheduler's thread, so the stream's
// header and its events leave in order.
class StreamReply final : public JobListener {
 public:
  StreamReply(std::shared_ptr<Responder> out, ReplyMeta meta, bool include_usage)
      : out_(std::move(out)), meta_(std::move(meta)), include_usage_(include_usage) {}
  void on_text(std::string_view text, std::span<const TokenLogprob> logprobs) override {
    begin();
    out_->event(sse::event(stream_chunk(meta_, text, logprobs, "", first_)));
    first_ = false;
  }
  void on_done(std::string_view finish_reason, const Usage& usage) override {
    begin();
    out_->event(sse::event(stream_chunk(meta_, "", {}, finish_reason, first_)));
    if (include_usage_) out_->event(sse::event(usage_chunk(meta_, usage)));
    out_->event(sse::done());
    out_->end_events();
  }
  void on_error(const Error& error) override {
    const ApiError e = api_error(500, error.message, "server_error", "generation_failed");
    if (!begun_) return send_error(*out_, e);
    out_->event(sse::event(error_body(e)));
    out_->end_events();
  }

 private:
  void begin() {
    if (!std::exchange(begun_, true)) out_->begin_events();
  }
  std::shared_ptr<Responder> out_;
  ReplyMeta meta_;
  bool include_usage_;
  bool begun_ = false;
  bool first_ = true;
};

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

}  // namespace

std::string_view metrics_endpoint(std::string_view path) {
  for (std::string_view p :
       {"/v1/completions", "/v1/chat/completions", "/v1/models", "/health", "/metrics"})
    if (path == p) return p;
  if (path.starts_with("/v1/models/")) return "/v1/models";
  return "other";
}

void Routes::attach(Engine engine) {
  engine_.store(std::make_shared<const Engine>(std::move(engine)));
}

bool Routes::authorized(std::string_view authorization) const {
  const std::string& key = options_.api_key;
  if (key.empty()) return true;
  constexpr std::string_view kBearer = "Bearer ";
  if (!authorization.starts_with(kBearer)) return false;
  const std::string_view given = authorization.substr(kBearer.size());
  // Compare every byte whatever the first mismatch, so timing does not reveal a prefix.
  unsigned char diff = given.size() == key.size() ? 0 : 1;
  for (size_t i = 0; i < key.size(); ++i)
    diff |= static_cast<unsigned char>(key[i] ^ (i < given.size() ? given[i] : 0));
  return diff == 0;
}

void Routes::handle(const HttpRequest& request, const std::shared_ptr<Responder>& out) {
  const std::string_view path = path_of(request.target);
  const std::shared_ptr<const Engine> engine = engine_.load();
  if (path == "/health") {
    if (request.method != "GET")
      return send_error(*out,
                        api_error(405, "use GET", "invalid_request_error", "method_not_allowed"),
                        {{"Allow", "GET"}});
    const char* status = draining_ ? "shutting down" : engine ? "ok" : "loading";
    return out->respond(engine && !draining_ ? 200 : 503, kJson,
                        std::string("{\"status\":\"") + status + "\"}");
  }
  if (!authorized(request.authorization))
    return send_error(*out,
                      api_error(401,
                                "Missing or incorrect API key: send it as 'Authorization: Bearer "
                                "<key>' (the key the server was started with)",
                                "invalid_request_error", "invalid_api_key"),
                      {{"WWW-Authenticate", "Bearer"}});
  const bool generation = path == "/v1/completions" || path == "/v1/chat/completions";
  const bool models = path == "/v1/models" || path.starts_with("/v1/models/");
  if (!generation && !models && path != "/metrics")
    return send_error(*out, api_error(404, "Unknown path: " + std::string(path),
                                      "invalid_request_error", "not_found"));
  const std::string_view method = generation ? "POST" : "GET";
  if (request.method != method)
    return send_error(*out,
                      api_error(405, "use " + std::string(method) + " for " + std::string(path),
                                "invalid_request_error", "method_not_allowed"),
                      {{"Allow", std::string(method)}});
  if (path == "/metrics")
    return out->respond(200, "text/plain; version=0.0.4; charset=utf-8", metrics_.render());
  if (!engine)
    return send_error(*out,
                      api_error(503, "the model is still loading; retry shortly", "server_error",
                                "model_loading"),
                      {{"Retry-After", "1"}});
  if (draining_)
    return send_error(
        *out, api_error(503, "the server is shutting down", "server_error", "shutting_down"));
  if (path == "/v1/models")
    return out->respond(200, kJson, model_list(engine->model_id, engine->created));
  if (models) {
    const std::string_view id = path.substr(std::string_view("/v1/models/").size());
    if (id != engine->model_id)
      return send_error(*out, api_error(404, "The model '" + std::string(id) + "' does not exist",
                                        "invalid_request_error", "model_not_found"));
    return out->respond(200, kJson, model_object(engine->model_id, engine->created));
  }
  generate(path == "/v1/completions" ? Endpoint::completions : Endpoint::chat, request, out);
}

void Routes::generate(Endpoint endpoint, const HttpRequest& request,
                      const std::shared_ptr<Responder>& out) {
  const std::shared_ptr<const Engine> engine = engine_.load();
  ApiResult<GenerationRequest> parsed = parse_generation_request(endpoint, request.body);
  if (!parsed) return send_error(*out, parsed.error());
  GenerationRequest& r = *parsed;
  const tok::Tokenizer& tokenizer = *engine->tokenizer;
  Scheduler& scheduler = *engine->scheduler;

  std::vector<int32_t> prompt;
  if (endpoint == Endpoint::chat) {
    if (!engine->chat)
      return send_error(*out, api_error(400, engine->chat_problem, "invalid_request_error",
                                        "chat_template_unavailable"));
    Result<std::vector<int32_t>> ids = tok::encode_chat(tokenizer, *engine->chat, r.messages, true);
    if (!ids)
      return send_error(*out, ApiError{400, ids.error().message, "invalid_request_error",
                                       "invalid_messages", "messages"});
    prompt = std::move(*ids);
  } else if (r.prompt_ids) {
    prompt = std::move(*r.prompt_ids);
    for (int32_t id : prompt)
      if (id >= scheduler.n_vocab())
        return send_error(
            *out, ApiError{400,
                           "token id " + std::to_string(id) + " is outside the vocabulary of " +
                               std::to_string(scheduler.n_vocab()),
                           "invalid_request_error", "invalid_value", "prompt"});
  } else {
    prompt = tokenizer.encode(r.prompt);
  }
  if (prompt.empty())
    return send_error(*out, ApiError{400, "the prompt is empty", "invalid_request_error",
                                     "invalid_value", "prompt"});

  const int64_t n_ctx = scheduler.n_ctx();
  const auto n_prompt = static_cast<int64_t>(prompt.size());
  const int64_t room = n_ctx - n_prompt;
  // OpenAI's defaults: 16 tokens for completions, as much as fits for chat.
  const int64_t max_tokens = r.max_tokens                 ? *r.max_tokens
                             : endpoint == Endpoint::chat ? room
                                                          : std::min<int64_t>(16, room);
  if (room < 1 || n_prompt + max_tokens > n_ctx)
    return send_error(*out,
                      ApiError{400,
                               "This model's maximum context length is " + std::to_string(n_ctx) +
                                   " tokens. However, you requested " +
                                   std::to_string(n_prompt + std::max<int64_t>(max_tokens, 1)) +
                                   " tokens (" + std::to_string(n_prompt) + " in the prompt, " +
                                   std::to_string(std::max<int64_t>(max_tokens, 1)) +
                                   " for the completion). Please reduce the prompt or max_tokens.",
                               "invalid_request_error", "context_length_exceeded",
                               endpoint == Endpoint::chat ? "messages" : "prompt"});

  auto job = std::make_shared<Job>();
  job->prompt = std::move(prompt);
  job->options.max_tokens = static_cast<int32_t>(max_tokens);
  job->options.sampling = r.sampling;
  if (!r.seeded) job->options.sampling.seed = std::random_device{}();
  job->options.stop = std::move(r.stop);
  job->options.stop_at_end_tokens = !r.ignore_eos;
  job->logprobs = r.logprobs;
  ReplyMeta meta{endpoint, random_id(endpoint == Endpoint::chat ? "chatcmpl-" : "cmpl-"),
                 static_cast<int64_t>(std::time(nullptr)), engine->model_id, r.logprobs >= 0};
  if (r.stream)
    job->listener = std::make_shared<StreamReply>(out, std::move(meta), r.include_usage);
  else
    job->listener = std::make_shared<WholeReply>(out, std::move(meta));
  // The job only learns of a disconnect through this flag, so it holds no connection itself.
  std::weak_ptr<Job> weak = job;
  out->on_disconnect([weak] {
    if (std::shared_ptr<Job> j = weak.lock()) j->cancelled = true;
  });
  if (!scheduler.submit(job)) {
    job->listener.reset();
    return send_error(*out,
                      api_error(429,
                                "Too many requests are waiting: the queue holds " +
                                    std::to_string(options_.queue_limit) + "; retry shortly",
                                "rate_limit_error", "queue_full"),
                      {{"Retry-After", "1"}});
  }
}

}  // namespace bitnet::server
