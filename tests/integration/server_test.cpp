// `bitnet serve` as a client sees it, over real sockets on 127.0.0.1: answers checked against
// `bitnet run`, streaming, log-probabilities, every malformed-request path, slow and vanishing
// clients, the API key, the bounded queue, slots that stream together, and SIGTERM.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>

#include "cli_runner.hpp"
#include "random_model.hpp"
#include "server_process.hpp"

namespace json = boost::json;
using namespace bitnet_test;

namespace {

std::string write_model(const std::string& name, bitnet::testing::RandomModelOptions o) {
  return write_random_model(std::filesystem::temp_directory_path() / name, o);
}

// Small and fast: most tests.
std::string small_model() {
  return write_model("bitnet-server-small.gguf", {.arch = "bitnet-b1.58",
                                                  .weight_type = BITNET_TYPE_I2_S,
                                                  .embedding_type = BITNET_TYPE_F16,
                                                  .n_embd = 128,
                                                  .n_ff = 256,
                                                  .n_ctx = 256});
}

// Slow enough (about a millisecond a token and a long context) that a request is still
// running when the test acts on it.
std::string slow_model() {
  return write_model("bitnet-server-slow.gguf", {.arch = "bitnet-b1.58",
                                                 .weight_type = BITNET_TYPE_I2_S,
                                                 .embedding_type = BITNET_TYPE_F16,
                                                 .n_embd = 256,
                                                 .n_layer = 4,
                                                 .n_ff = 512,
                                                 .n_ctx = 4096});
}

json::value post_json(uint16_t port, const std::string& target, const std::string& body,
                      unsigned expect = 200) {
  const Reply r = http_request(port, "POST", target, body);
  BOOST_TEST_REQUIRE(r.status == expect, body + " -> " + r.body);
  return json::parse(r.body);
}

// The data of each `data: ` event in a stream (chunked or not).
std::vector<std::string> events(const std::string& raw) {
  std::vector<std::string> out;
  for (size_t at = raw.find("data: "); at != std::string::npos; at = raw.find("data: ", at)) {
    const size_t end = raw.find("\n\n", at);
    if (end == std::string::npos) break;
    out.push_back(raw.substr(at + 6, end - at - 6));
    at = end;
  }
  return out;
}

std::string error_code(const std::string& raw) {
  const size_t body = raw.find("\r\n\r\n");
  if (body == std::string::npos) return "";
  const json::value v = json::parse(raw.substr(body + 4));
  return std::string(v.at("error").at("code").as_string());
}

std::string metric(uint16_t port, const std::string& name) {
  const std::string text = http_request(port, "GET", "/metrics").body;
  const size_t at = text.find("\n" + name + " ");
  return at == std::string::npos
             ? ""
             : text.substr(at + name.size() + 2, text.find('\n', at + 1) - at - name.size() - 2);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(server)

BOOST_AUTO_TEST_CASE(health_models_and_metrics) {
  ServerProcess s("--model '" + small_model() + "' --parallel 2");
  const Reply health = http_request(s.port(), "GET", "/health");
  BOOST_TEST(health.status == 200u);
  BOOST_TEST(health.body == R"({"status":"ok"})");
  const json::value models = json::parse(http_request(s.port(), "GET", "/v1/models").body);
  BOOST_TEST(models.at("data").at(0).at("id").as_string() == "bitnet-server-small");
  BOOST_TEST(http_request(s.port(), "GET", "/v1/models/bitnet-server-small").status == 200u);
  BOOST_TEST(http_request(s.port(), "GET", "/v1/models/other").status == 404u);
  post_json(s.port(), "/v1/completions", R"({"prompt":"hello","max_tokens":3})");
  const Reply m = http_request(s.port(), "GET", "/metrics");
  BOOST_TEST(m.headers.at("content-type").starts_with("text/plain"));
  for (const char* line :
       {"bitnet_slots 2\n", "bitnet_requests_total{endpoint=\"/health\",status=\"200\"} 1\n",
        "bitnet_requests_total{endpoint=\"/v1/completions\",status=\"200\"} 1\n",
        "bitnet_generated_tokens_total 3\n", "bitnet_time_to_first_token_seconds_count 1\n",
        "bitnet_token_latency_seconds_count 2\n", "bitnet_queue_depth 0\n"})
    BOOST_TEST(m.body.find(line) != std::string::npos, line << " in\n" << m.body);
  BOOST_TEST(s.stop() == 0, s.log());
}

BOOST_AUTO_TEST_CASE(greedy_completion_is_what_bitnet_run_writes) {
  const std::string model = small_model();
  const Run run =
      run_cli("run --model '" + model + "' --prompt 'hello world' --max-tokens 12 --greedy --json");
  BOOST_TEST_REQUIRE(run.exit_code == 0, run.out);
  const size_t at = run.out.rfind("\n{\"") + 1;  // the record: the last stdout line
  const json::value rec = json::parse(run.out.substr(at, run.out.find('\n', at) - at));
  ServerProcess s("--model '" + model + "'");
  const json::value c = post_json(s.port(), "/v1/completions",
                                  R"({"prompt":"hello world","max_tokens":12,"temperature":0})");
  const json::value& choice = c.at("choices").at(0);
  BOOST_TEST(choice.at("text") == rec.at("text"));
  BOOST_TEST(choice.at("finish_reason").as_string() ==
             (rec.at("stop_reason").as_string() == "max_tokens" ? "length" : "stop"));
  BOOST_TEST(c.at("object").as_string() == "text_completion");
  BOOST_TEST(c.at("id").as_string().starts_with("cmpl-"));
  BOOST_TEST(c.at("usage").at("prompt_tokens").as_int64() ==
             static_cast<int64_t>(rec.at("prompt_ids").as_array().size()));
  BOOST_TEST(c.at("usage").at("completion_tokens").as_int64() ==
             static_cast<int64_t>(rec.at("generated_ids").as_array().size()));

  // The same as a stream: the chunks' text adds up to it and the stream ends with [DONE].
  const Reply streamed =
      http_request(s.port(), "POST", "/v1/completions",
                   R"({"prompt":"hello world","max_tokens":12,"temperature":0,"stream":true,)"
                   R"("stream_options":{"include_usage":true}})");
  BOOST_TEST(streamed.status == 200u);
  BOOST_TEST(streamed.headers.at("content-type") == "text/event-stream");
  const std::vector<std::string> ev = events(streamed.body);
  BOOST_TEST_REQUIRE(ev.size() >= 3u, streamed.body);
  BOOST_TEST(ev.back() == "[DONE]");
  std::string text;
  for (size_t i = 0; i + 2 < ev.size(); ++i)
    text += json::parse(ev[i]).at("choices").at(0).at("text").as_string();
  BOOST_TEST(text == std::string(rec.at("text").as_string()));
  const json::value usage = json::parse(ev[ev.size() - 2]);
  BOOST_TEST(usage.at("choices").as_array().empty());
  BOOST_TEST(usage.at("usage").at("completion_tokens") == c.at("usage").at("completion_tokens"));
  BOOST_TEST(s.stop() == 0, s.log());
}

BOOST_AUTO_TEST_CASE(chat_whole_and_streamed_agree) {
  ServerProcess s("--model '" + small_model() + "'");
  const std::string body = R"({"model":"x","messages":[{"role":"system","content":"be brief"},)"
                           R"({"role":"user","content":"hello"}],"max_tokens":10,"temperature":0)";
  const json::value whole = post_json(s.port(), "/v1/chat/completions", body + "}");
  BOOST_TEST(whole.at("object").as_string() == "chat.completion");
  BOOST_TEST(whole.at("model").as_string() == "bitnet-server-small");
  const json::value& message = whole.at("choices").at(0).at("message");
  BOOST_TEST(message.at("role").as_string() == "assistant");
  const Reply streamed =
      http_request(s.port(), "POST", "/v1/chat/completions", body + R"(,"stream":true})");
  const std::vector<std::string> ev = events(streamed.body);
  BOOST_TEST_REQUIRE(ev.size() >= 3u, streamed.body);
  BOOST_TEST(json::parse(ev[0]).at("choices").at(0).at("delta").at("role").as_string() ==
             "assistant");
  std::string text;
  for (size_t i = 0; i + 1 < ev.size(); ++i) {
    const json::value chunk = json::parse(ev[i]);
    BOOST_TEST(chunk.at("object").as_string() == "chat.completion.chunk");
    BOOST_TEST(chunk.at("id") == json::parse(ev[0]).at("id"));
    if (const json::value* c =
            chunk.at("choices").at(0).at("delta").as_object().if_contains("content"))
      text += c->as_string();
  }
  BOOST_TEST(text == std::string(message.at("content").as_string()));
  BOOST_TEST(json::parse(ev[ev.size() - 2]).at("choices").at(0).at("finish_reason") ==
             whole.at("choices").at(0).at("finish_reason"));
  BOOST_TEST(s.stop() == 0, s.log());
}

BOOST_AUTO_TEST_CASE(batched_decode_gives_what_one_sequence_alone_gives) {
  ServerProcess s("--model '" + small_model() + "' --parallel 4");
  BOOST_TEST(contains(s.log(), "decode steps batched"), s.log());
  const std::vector<std::string> prompts = {"hello", "the world", "a b c", "hello world again"};
  const auto body = [](const std::string& p) {
    return R"({"prompt":")" + p + R"(","max_tokens":60,"temperature":0})";
  };
  std::vector<std::string> alone;
  for (const std::string& p : prompts)
    alone.emplace_back(
        post_json(s.port(), "/v1/completions", body(p)).at("choices").at(0).at("text").as_string());
  std::vector<std::unique_ptr<RawSocket>> socks;
  for (const std::string& p : prompts) {
    socks.push_back(std::make_unique<RawSocket>(s.port()));
    socks.back()->send(post_text("/v1/completions", body(p), "Connection: close\r\n"));
  }
  for (size_t i = 0; i < socks.size(); ++i) {
    BOOST_TEST_REQUIRE(socks[i]->read_to_close(30s));
    const std::string& raw = socks[i]->received();
    BOOST_TEST_REQUIRE(status_of(raw) == 200u, raw);
    const json::value c = json::parse(raw.substr(raw.find("\r\n\r\n") + 4));
    BOOST_TEST(std::string(c.at("choices").at(0).at("text").as_string()) == alone[i], prompts[i]);
  }
  BOOST_TEST(s.stop() == 0, s.log());
}

BOOST_AUTO_TEST_CASE(logprobs_of_the_chosen_tokens) {
  ServerProcess s("--model '" + small_model() + "'");
  const json::value c =
      post_json(s.port(), "/v1/completions",
                R"({"prompt":"the","max_tokens":5,"temperature":0,"logprobs":3})");
  const json::value& lp = c.at("choices").at(0).at("logprobs");
  const json::array& chosen = lp.at("token_logprobs").as_array();
  BOOST_TEST(static_cast<int64_t>(chosen.size()) ==
             c.at("usage").at("completion_tokens").as_int64());
  for (size_t i = 0; i < chosen.size(); ++i) {
    const json::object& top = lp.at("top_logprobs").at(i).as_object();
    BOOST_TEST(top.size() <= 3u);
    double best = -1e30;
    for (const auto& kv : top)
      best = std::max(best, kv.value().as_double());
    // Greedy: the chosen token is the likeliest one.
    BOOST_TEST(chosen[i].as_double() >= best - 1e-6);
    BOOST_TEST(chosen[i].as_double() <= 0.0);
  }
  const json::value chat =
      post_json(s.port(), "/v1/chat/completions",
                R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":3,"logprobs":true,)"
                R"("top_logprobs":2})");
  const json::array& content = chat.at("choices").at(0).at("logprobs").at("content").as_array();
  BOOST_TEST(!content.empty());
  BOOST_TEST(content[0].at("top_logprobs").as_array().size() == 2u);
  BOOST_TEST(!content[0].at("bytes").as_array().empty());
  BOOST_TEST(s.stop() == 0, s.log());
}

BOOST_AUTO_TEST_CASE(malformed_requests_get_4xx_and_the_server_lives_on) {
  ServerProcess s("--model '" + small_model() + "' --max-body 4096");
  std::string long_prompt;
  for (int i = 0; i < 400; ++i)
    long_prompt += "hello world ";
  struct Case {
    std::string what, request;
    unsigned status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"invalid JSON", post_text("/v1/completions", "{\"prompt\": "), 400, "invalid_json"},
      {"not an object", post_text("/v1/completions", "[]"), 400, "invalid_json"},
      {"wrong type", post_text("/v1/completions", R"({"prompt":"x","max_tokens":"5"})"), 400,
       "invalid_type"},
      {"unknown field", post_text("/v1/completions", R"({"prompt":"x","max_tokenz":5})"), 400,
       "unknown_parameter"},
      {"n of 2",
       post_text("/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"n":2})"),
       400, "unsupported_parameter"},
      {"bad message role",
       post_text("/v1/chat/completions", R"({"messages":[{"role":"wizard","content":"x"}]})"), 400,
       "invalid_value"},
      {"prompt past the context",
       post_text("/v1/completions", R"({"prompt":")" + long_prompt.substr(0, 3000) + "\"}"), 400,
       "context_length_exceeded"},
      {"max_tokens past the context",
       post_text("/v1/completions", R"({"prompt":"hi","max_tokens":100000})"), 400,
       "context_length_exceeded"},
      {"token id outside the vocabulary",
       post_text("/v1/completions", R"({"prompt":[1,2,99999999]})"), 400, "invalid_value"},
      {"oversized body", post_text("/v1/completions", R"({"prompt":")" + long_prompt + "\"}"), 413,
       "request_too_large"},
      {"not HTTP", "GARBAGE\r\n\r\n", 400, "bad_request"},
      {"bad content length",
       "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n", 400,
       "bad_request"},
      {"huge header",
       "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n", 431,
       "headers_too_large"},
      {"unknown path", "GET /v2/engines HTTP/1.1\r\nHost: x\r\n\r\n", 404, "not_found"},
      {"wrong method", "GET /v1/completions HTTP/1.1\r\nHost: x\r\n\r\n", 405,
       "method_not_allowed"},
  };
  for (const Case& c : cases) {
    RawSocket sock(s.port());
    BOOST_REQUIRE(sock.connected());
    sock.send(c.request);
    const std::string raw = sock.read_until("}}", 10s);
    BOOST_TEST(status_of(raw) == c.status, c.what << ": " << raw);
    BOOST_TEST(error_code(raw) == c.code, c.what << ": " << raw);
  }
  BOOST_TEST(http_request(s.port(), "GET", "/health").status == 200u);
  BOOST_TEST(s.running());
  const std::string m = http_request(s.port(), "GET", "/metrics").body;
  BOOST_TEST(m.find("bitnet_requests_total{endpoint=\"other\",status=\"413\"} 1") !=
             std::string::npos);
  BOOST_TEST(m.find("bitnet_requests_total{endpoint=\"/v1/completions\",status=\"400\"} 7") !=
                 std::string::npos,
             m);
  BOOST_TEST(s.stop() == 0, s.log());
}

BOOST_AUTO_TEST_CASE(slow_and_idle_clients_are_cut_off) {
  ServerProcess s("--model '" + small_model() + "' --read-timeout 1");
  // A client trickling its request: 408 once the read timeout has passed.
  RawSocket slow(s.port());
  const auto start = std::chrono::steady_clock::now();
  slow.send("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{");
  for (int i = 0; i < 40 && status_of(slow.received()) == 0; ++i) {
    slow.send(" ");
    slow.read_until("}}", 100ms);
  }
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  BOOST_TEST(status_of(slow.received()) == 408u, slow.received());
  BOOST_TEST(error_code(slow.read_until("}}")) == "request_timeout");
  BOOST_TEST(waited >= 0.9);
  BOOST_TEST(waited < 3.0);
  BOOST_TEST(slow.read_to_close(5s));
  // A connection that never says anything is closed without an answer.
  RawSocket idle(s.port());
  BOOST_TEST(idle.read_to_close(5s));
  BOOST_TEST(idle.received().empty());
  BOOST_TEST(s.stop() == 0, s.log());
}

BOOST_AUTO_TEST_CASE(api_key_is_required_and_never_logged) {
  const std::string key = "sk-test-7f3e1c9a";
  ServerProcess s("--model '" + small_model() + "'", "BITNET_LOG=debug BITNET_API_KEY=" + key);
  const std::string body = R"({"prompt":"hi","max_tokens":2})";
  const Reply none = http_request(s.port(), "POST", "/v1/completions", body);
  BOOST_TEST(none.status == 401u);
  BOOST_TEST(none.headers.at("www-authenticate") == "Bearer");
  BOOST_TEST(json::parse(none.body).at("error").at("code").as_string() == "invalid_api_key");
  const Reply wrong = http_request(s.port(), "POST", "/v1/completions", body,
                                   {{"Authorization", "Bearer " + key + "x"}});
  BOOST_TEST(wrong.status == 401u);
  BOOST_TEST(wrong.body.find(key) == std::string::npos);
  BOOST_TEST(
      http_request(s.port(), "POST", "/v1/completions", body, {{"Authorization", "Bearer " + key}})
          .status == 200u);
  BOOST_TEST(http_request(s.port(), "GET", "/metrics").status == 401u);
  BOOST_TEST(http_request(s.port(), "GET", "/health").status == 200u);
  BOOST_TEST(s.stop() == 0);
  BOOST_TEST(s.log().find("POST /v1/completions") != std::string::npos, s.log());
  BOOST_TEST(s.log().find(key) == std::string::npos, s.log());
}

BOOST_AUTO_TEST_CASE(full_queue_answers_429_with_retry_after) {
  ServerProcess s("--model '" + slow_model() + "' --parallel 1 --queue 1");
  const std::string body =
      R"({"prompt":"hello","max_tokens":3000,"stream":true,"ignore_eos":true})";
  // The first one runs (its first event has arrived), then five more come: one waits, four
  // are refused.
  std::vector<std::unique_ptr<RawSocket>> socks;
  socks.push_back(std::make_unique<RawSocket>(s.port()));
  socks.back()->send(post_text("/v1/completions", body));
  BOOST_TEST_REQUIRE(socks.back()->read_until("data: ", 10s).find("data: ") != std::string::npos);
  for (int i = 0; i < 5; ++i) {
    socks.push_back(std::make_unique<RawSocket>(s.port()));
    socks.back()->send(post_text("/v1/completions", body));
  }
  int busy = 0, refused = 0;
  for (auto& sock : socks) {
    // The running request's header came with its first token; the queued one sends none.
    const std::string raw = sock->read_until("\r\n\r\n", 2s);
    if (status_of(raw) == 429) {
      ++refused;
      BOOST_TEST(raw.find("Retry-After: 1\r\n") != std::string::npos, raw);
      BOOST_TEST(error_code(sock->read_until("}}")) == "queue_full");
    } else if (status_of(raw) == 200 || raw.empty()) {
      ++busy;
    }
  }
  BOOST_TEST(refused == 4);  // one runs, one waits
  BOOST_TEST(busy == 2);
  socks.clear();  // the clients leave: the running and the waiting request are dropped
  BOOST_TEST(http_request(s.port(), "POST", "/v1/completions", R"({"prompt":"a","max_tokens":2})")
                 .status == 200u);
  BOOST_TEST(s.stop() == 0, s.log());
}

BOOST_AUTO_TEST_CASE(a_client_that_leaves_frees_its_slot_at_once) {
  ServerProcess s("--model '" + slow_model() + "' --parallel 1");
  {
    RawSocket sock(s.port());
    sock.send(post_text("/v1/completions",
                        R"({"prompt":"hello","max_tokens":4000,"stream":true,"ignore_eos":true})"));
    BOOST_TEST(sock.read_until("data: ", 10s).find("data: ") != std::string::npos);
  }  // closed after the first event
  // The only slot is free again well before 4000 tokens could have been generated. The request
  // samples at temperature 1 with no seed, so without ignore_eos the random model ends it
  // after one token now and then (3 of 150 such requests did; one failed a fresh-clone run).
  const auto start = std::chrono::steady_clock::now();
  const json::value c = post_json(s.port(), "/v1/completions",
                                  R"({"prompt":"next","max_tokens":2,"ignore_eos":true})");
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  BOOST_TEST(c.at("usage").at("completion_tokens").as_int64() == 2);
  BOOST_TEST(metric(s.port(), "bitnet_cancelled_requests_total") == "1");
  const int64_t generated = std::stoll(metric(s.port(), "bitnet_generated_tokens_total"));
  BOOST_TEST(generated < 1000, "tokens generated in all: " << generated << " (" << took << " s)");
  BOOST_TEST(s.stop() == 0, s.log());
}

BOOST_AUTO_TEST_CASE(parallel_streams_advance_together) {
  ServerProcess s("--model '" + slow_model() + "' --parallel 4");
  using Clock = std::chrono::steady_clock;
  std::vector<std::unique_ptr<RawSocket>> socks;
  for (int i = 0; i < 4; ++i) {
    socks.push_back(std::make_unique<RawSocket>(s.port()));
    socks.back()->send(
        post_text("/v1/completions", R"({"prompt":"stream )" + std::to_string(i) +
                                         R"(","max_tokens":300,"stream":true,"ignore_eos":true})"));
  }
  std::vector<Clock::time_point> first(4), done(4);
  std::vector<bool> have_first(4, false), have_done(4, false);
  const auto deadline = Clock::now() + 60s;
  while (Clock::now() < deadline && std::count(have_done.begin(), have_done.end(), true) < 4) {
    for (size_t i = 0; i < 4; ++i) {
      if (have_done[i]) continue;
      socks[i]->read_until("\x01", 1ms);
      const std::string& now = socks[i]->received();
      if (!have_first[i] && now.find("data: {") != std::string::npos) {
        have_first[i] = true;
        first[i] = Clock::now();
      }
      if (now.find("data: [DONE]") != std::string::npos) {
        have_done[i] = true;
        done[i] = Clock::now();
      }
    }
  }
  BOOST_TEST_REQUIRE(std::count(have_done.begin(), have_done.end(), true) == 4);
  // Every stream had started before any had finished.
  BOOST_TEST((*std::max_element(first.begin(), first.end()) <
              *std::min_element(done.begin(), done.end())));
  BOOST_TEST(s.stop() == 0, s.log());
}

BOOST_AUTO_TEST_CASE(sigterm_finishes_requests_in_flight_then_exits_0) {
  ServerProcess s("--model '" + slow_model() + "' --parallel 2");
  RawSocket sock(s.port());
  sock.send(post_text("/v1/completions",
                      R"({"prompt":"hello","max_tokens":1500,"stream":true,"ignore_eos":true})"));
  BOOST_TEST(sock.read_until("data: ", 10s).find("data: ") != std::string::npos);
  kill(s.pid(), SIGTERM);
  std::this_thread::sleep_for(200ms);
  // No new connections once it is stopping...
  const bool still_streaming = sock.received().find("[DONE]") == std::string::npos;
  if (still_streaming) BOOST_TEST(!RawSocket(s.port()).connected());
  // ...while the request in flight runs to its end.
  const std::string raw = sock.read_until("data: [DONE]", 60s);
  BOOST_TEST(raw.find("data: [DONE]") != std::string::npos);
  const std::vector<std::string> ev = events(raw);
  BOOST_TEST_REQUIRE(ev.size() >= 2u);
  BOOST_TEST(json::parse(ev[ev.size() - 2]).at("choices").at(0).at("finish_reason").as_string() ==
             "length");
  BOOST_TEST(s.wait_exit(30s) == 0, s.log());
  BOOST_TEST(s.log().find("all requests answered") != std::string::npos, s.log());
}

BOOST_AUTO_TEST_SUITE_END()
