// The server's pieces that need no socket: OpenAI request checking, response and chunk JSON,
// SSE framing, Prometheus text, and the routes' answers before a model is attached.
#include <bitnet/runtime/server/metrics.hpp>
#include <bitnet/runtime/server/openai_json.hpp>
#include <bitnet/runtime/server/routes.hpp>
#include <bitnet/runtime/server/sse.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

namespace json = boost::json;
using namespace bitnet::server;

namespace {

ApiError refused(Endpoint e, std::string_view body) {
  ApiResult<GenerationRequest> r = parse_generation_request(e, body);
  BOOST_TEST_REQUIRE(!r.has_value(), body);
  return r.error();
}

GenerationRequest accepted(Endpoint e, std::string_view body) {
  ApiResult<GenerationRequest> r = parse_generation_request(e, body);
  BOOST_TEST_REQUIRE(r.has_value(), std::string(body) + ": " + r.error().message);
  return *r;
}

struct Answer {
  unsigned status = 0;
  std::string body;
  Headers headers;
};

class Recorder final : public Responder {
 public:
  void respond(unsigned status, std::string, std::string body, Headers headers) override {
    answer = {status, std::move(body), std::move(headers)};
  }
  void begin_events() override {}
  void event(std::string) override {}
  void end_events() override {}
  void on_disconnect(std::function<void()>) override {}
  Answer answer;
};

Answer ask(Routes& routes, std::string_view method, std::string_view target,
           std::string_view auth = "", std::string_view body = "") {
  auto r = std::make_shared<Recorder>();
  routes.handle({method, target, auth, body}, r);
  return r->answer;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(server_json)

BOOST_AUTO_TEST_CASE(completion_fields_and_openai_defaults) {
  const GenerationRequest r = accepted(
      Endpoint::completions,
      R"({"model":"m","prompt":"hi","max_tokens":7,"temperature":0.5,"top_p":0.9,"stop":["a","b"],)"
      R"("seed":-3,"n":1,"stream":true,"stream_options":{"include_usage":true},"logprobs":2,)"
      R"("user":"u","presence_penalty":0,"echo":false,"top_k":5,"ignore_eos":true})");
  BOOST_TEST(r.model == "m");
  BOOST_TEST(r.prompt == "hi");
  BOOST_TEST(*r.max_tokens == 7);
  BOOST_TEST(r.sampling.temperature == 0.5f);
  BOOST_TEST(r.sampling.top_p == 0.9f);
  BOOST_TEST(r.sampling.top_k == 5);
  BOOST_TEST((r.stop == std::vector<std::string>{"a", "b"}));
  BOOST_TEST(r.seeded);
  BOOST_TEST(r.sampling.seed == static_cast<uint64_t>(-3));
  BOOST_TEST(r.stream);
  BOOST_TEST(r.include_usage);
  BOOST_TEST(r.logprobs == 2);
  BOOST_TEST(r.ignore_eos);
  // OpenAI's sampling defaults, not the CLI's: temperature 1, no top-k or min-p.
  const GenerationRequest d = accepted(Endpoint::completions, R"({"prompt":"x"})");
  BOOST_TEST(d.sampling.temperature == 1.0f);
  BOOST_TEST(d.sampling.top_p == 1.0f);
  BOOST_TEST(d.sampling.top_k == 0);
  BOOST_TEST(d.sampling.min_p == 0.0f);
  BOOST_TEST(!d.max_tokens.has_value());
  BOOST_TEST(d.logprobs == -1);
  BOOST_TEST(!d.seeded);
}

BOOST_AUTO_TEST_CASE(prompt_forms) {
  BOOST_TEST(accepted(Endpoint::completions, R"({"prompt":["one"]})").prompt == "one");
  BOOST_TEST((*accepted(Endpoint::completions, R"({"prompt":[1,2,3]})").prompt_ids ==
              std::vector<int32_t>{1, 2, 3}));
  BOOST_TEST((*accepted(Endpoint::completions, R"({"prompt":[[4,5]]})").prompt_ids ==
              std::vector<int32_t>{4, 5}));
  BOOST_TEST(refused(Endpoint::completions, R"({"prompt":["a","b"]})").code ==
             "unsupported_parameter");
  BOOST_TEST(refused(Endpoint::completions, R"({"prompt":[1,-2]})").code == "invalid_type");
  BOOST_TEST(refused(Endpoint::completions, R"({"prompt":null})").code == "invalid_type");
  BOOST_TEST(refused(Endpoint::completions, R"({"max_tokens":3})").code ==
             "missing_required_parameter");
}

BOOST_AUTO_TEST_CASE(chat_messages) {
  const GenerationRequest r = accepted(
      Endpoint::chat,
      R"({"messages":[{"role":"developer","content":"be brief"},)"
      R"({"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},)"
      R"({"role":"assistant","content":null}],"logprobs":true,"top_logprobs":3,)"
      R"("max_completion_tokens":4})");
  BOOST_TEST_REQUIRE(r.messages.size() == 3u);
  BOOST_TEST(r.messages[0].role == "system");
  BOOST_TEST(r.messages[1].content == "ab");
  BOOST_TEST(r.messages[2].content == "");
  BOOST_TEST(r.logprobs == 3);
  BOOST_TEST(*r.max_tokens == 4);
  BOOST_TEST(accepted(Endpoint::chat, R"({"messages":[{"role":"user","content":"x"}],)"
                                      R"("top_logprobs":3})")
                 .logprobs == -1);
  BOOST_TEST(refused(Endpoint::chat, R"({"messages":[]})").param == "messages");
  BOOST_TEST(refused(Endpoint::chat, R"({"messages":[{"role":"tool","content":"x"}]})").param ==
             "messages[0].role");
  BOOST_TEST(refused(Endpoint::chat, R"({"messages":[{"content":"x"}]})").code ==
             "missing_required_parameter");
  BOOST_TEST(
      refused(Endpoint::chat, R"({"messages":[{"role":"user","content":[{"type":"image_url"}]}]})")
          .code == "unsupported_parameter");
  BOOST_TEST(refused(Endpoint::chat, R"({"prompt":"x","messages":[{"role":"user"}]})").code ==
             "unknown_parameter");
}

BOOST_AUTO_TEST_CASE(bad_bodies_get_an_error_naming_the_field) {
  BOOST_TEST(refused(Endpoint::completions, "{").code == "invalid_json");
  BOOST_TEST(refused(Endpoint::completions, "[1]").code == "invalid_json");
  BOOST_TEST(refused(Endpoint::completions, std::string(100, '[')).code == "invalid_json");
  const ApiError t = refused(Endpoint::completions, R"({"prompt":"x","max_tokens":"9"})");
  BOOST_TEST(t.status == 400u);
  BOOST_TEST(t.type == "invalid_request_error");
  BOOST_TEST(t.code == "invalid_type");
  BOOST_TEST(t.param == "max_tokens");
  BOOST_TEST(refused(Endpoint::completions, R"({"prompt":"x","max_tokens":0})").param ==
             "max_tokens");
  BOOST_TEST(refused(Endpoint::completions, R"({"prompt":"x","max_tokens":1.5})").code ==
             "invalid_type");
  BOOST_TEST(refused(Endpoint::completions, R"({"prompt":"x","temperature":3})").param ==
             "temperature");
  BOOST_TEST(refused(Endpoint::completions, R"({"prompt":"x","n":2})").code ==
             "unsupported_parameter");
  BOOST_TEST(refused(Endpoint::completions, R"({"prompt":"x","echo":true})").param == "echo");
  BOOST_TEST(refused(Endpoint::completions, R"({"prompt":"x","logprobs":6})").param == "logprobs");
  BOOST_TEST(
      refused(Endpoint::completions, R"({"prompt":"x","stop":["a","b","c","d","e"]})").param ==
      "stop");
  BOOST_TEST(refused(Endpoint::completions, R"({"prompt":"x","frequency_penalty":1})").code ==
             "unsupported_parameter");
  const ApiError u = refused(Endpoint::completions, R"({"prompt":"x","max_token":5})");
  BOOST_TEST(u.code == "unknown_parameter");
  BOOST_TEST(u.param == "max_token");
  BOOST_TEST(refused(Endpoint::chat, R"({"messages":[{"role":"user","content":"x"}],)"
                                     R"("tools":[{}]})")
                 .param == "tools");
  const json::value e = json::parse(error_body(u));
  BOOST_TEST(e.at("error").at("code").as_string() == "unknown_parameter");
  BOOST_TEST(e.at("error").at("type").as_string() == "invalid_request_error");
  BOOST_TEST(!e.at("error").at("message").as_string().empty());
}

BOOST_AUTO_TEST_CASE(responses_and_chunks) {
  const ReplyMeta chat{Endpoint::chat, "chatcmpl-1", 5, "m", true};
  const std::vector<TokenLogprob> lps{{"\xC3", -0.5f, {{"\xC3", -0.5f}, {"b", -1.0f}}}};
  const json::value full = json::parse(full_response(chat, "hi", "stop", {3, 1}, lps));
  BOOST_TEST(full.at("object").as_string() == "chat.completion");
  BOOST_TEST(full.at("choices").at(0).at("message").at("content").as_string() == "hi");
  BOOST_TEST(full.at("choices").at(0).at("finish_reason").as_string() == "stop");
  BOOST_TEST(full.at("usage").at("total_tokens").as_int64() == 4);
  const json::value& lp = full.at("choices").at(0).at("logprobs").at("content").at(0);
  BOOST_TEST(lp.at("token").as_string() == "bytes:\\xc3");  // half a character, as OpenAI writes it
  BOOST_TEST(lp.at("bytes").at(0).as_int64() == 0xC3);
  BOOST_TEST(lp.at("top_logprobs").as_array().size() == 2u);

  const json::value first = json::parse(stream_chunk(chat, "a", {}, "", true));
  BOOST_TEST(first.at("object").as_string() == "chat.completion.chunk");
  BOOST_TEST(first.at("choices").at(0).at("delta").at("role").as_string() == "assistant");
  BOOST_TEST(first.at("choices").at(0).at("finish_reason").is_null());
  const json::value last = json::parse(stream_chunk(chat, "", {}, "length", false));
  BOOST_TEST(last.at("choices").at(0).at("delta").as_object().empty());
  BOOST_TEST(json::parse(usage_chunk(chat, {2, 2})).at("choices").as_array().empty());

  const ReplyMeta cmpl{Endpoint::completions, "cmpl-1", 5, "m", true};
  const json::value c = json::parse(full_response(cmpl, "xy", "length", {1, 2}, lps));
  BOOST_TEST(c.at("object").as_string() == "text_completion");
  BOOST_TEST(c.at("choices").at(0).at("text").as_string() == "xy");
  BOOST_TEST(c.at("choices").at(0).at("logprobs").at("token_logprobs").at(0).as_double() == -0.5);
  BOOST_TEST(sse::event("{}") == "data: {}\n\n");
  BOOST_TEST(sse::done() == "data: [DONE]\n\n");
  const json::value models = json::parse(model_list("tiny", 7));
  BOOST_TEST(models.at("data").at(0).at("id").as_string() == "tiny");
}

BOOST_AUTO_TEST_CASE(prometheus_text) {
  Metrics m;
  m.count_request("/v1/completions", 200);
  m.count_request("/v1/completions", 200);
  m.add_generated_tokens(5);
  m.observe_time_to_first_token(0.02);
  m.observe_time_to_first_token(100);
  const std::string text = m.render();
  BOOST_TEST(text.find("bitnet_requests_total{endpoint=\"/v1/completions\",status=\"200\"} 2\n") !=
             std::string::npos);
  BOOST_TEST(text.find("bitnet_generated_tokens_total 5\n") != std::string::npos);
  BOOST_TEST(text.find("bitnet_time_to_first_token_seconds_bucket{le=\"0.025\"} 1\n") !=
             std::string::npos);
  BOOST_TEST(text.find("bitnet_time_to_first_token_seconds_bucket{le=\"+Inf\"} 2\n") !=
             std::string::npos);
  BOOST_TEST(text.find("bitnet_time_to_first_token_seconds_count 2\n") != std::string::npos);
  BOOST_TEST(text.find("# TYPE bitnet_token_latency_seconds histogram") != std::string::npos);
  BOOST_TEST(metrics_endpoint("/nope") == "other");
  BOOST_TEST(metrics_endpoint("/v1/models/x") == "/v1/models");
}

BOOST_AUTO_TEST_CASE(routes_before_the_model_is_loaded_and_with_a_key) {
  ServerOptions o;
  o.api_key = "sekret";
  Metrics metrics;
  Routes routes(o, metrics);
  BOOST_TEST(ask(routes, "GET", "/health").status == 503u);
  BOOST_TEST(ask(routes, "GET", "/health").body == R"({"status":"loading"})");
  const Answer no_key = ask(routes, "POST", "/v1/completions", "", R"({"prompt":"x"})");
  BOOST_TEST(no_key.status == 401u);
  BOOST_TEST(json::parse(no_key.body).at("error").at("code").as_string() == "invalid_api_key");
  BOOST_TEST(no_key.body.find("sekret") == std::string::npos);
  BOOST_TEST(ask(routes, "GET", "/metrics", "Bearer sekreT").status == 401u);
  BOOST_TEST(ask(routes, "GET", "/metrics", "Bearer sekret").status == 200u);
  const Answer loading = ask(routes, "POST", "/v1/completions", "Bearer sekret", "{}");
  BOOST_TEST(loading.status == 503u);
  BOOST_TEST(json::parse(loading.body).at("error").at("code").as_string() == "model_loading");
  BOOST_TEST(ask(routes, "GET", "/v1/completions", "Bearer sekret").status == 405u);
  BOOST_TEST(ask(routes, "GET", "/v2/x", "Bearer sekret").status == 404u);
  routes.set_draining();
  BOOST_TEST(ask(routes, "GET", "/health").body == R"({"status":"shutting down"})");
}

BOOST_AUTO_TEST_SUITE_END()
