#include <bitnet/runtime/server/openai_json.hpp>

#include <boost/json.hpp>

#include <cmath>
#include <cstdio>
#include <limits>
#include <set>

#include "../tokenizer/utf8_lossy.hpp"

namespace bitnet::server {
namespace json = boost::json;

void throw_exception_from_error(const ApiError& e, const boost::source_location&) {
  throw std::runtime_error(e.message);
}

namespace {

ApiError invalid(std::string message, std::string param, std::string code = "invalid_value") {
  return ApiError{400, std::move(message), "invalid_request_error", std::move(code),
                  std::move(param)};
}

ApiError wrong_type(const std::string& field, const char* expected) {
  return invalid("'" + field + "' must be " + expected, field, "invalid_type");
}

ApiError unsupported(const std::string& field, const std::string& what) {
  return invalid("'" + field + "' " + what + " is not supported by this server", field,
                 "unsupported_parameter");
}

std::optional<int64_t> as_integer(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(INT64_MAX))
    return static_cast<int64_t>(v.get_uint64());
  return std::nullopt;
}

std::optional<double> as_number(const json::value& v) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return std::nullopt;
}

// Reads the fields of one request object; each reader returns an error or nothing.
class Fields {
 public:
  Fields(const json::object& o, GenerationRequest& r) : o_(o), r_(r) {}

  std::optional<ApiError> read() {
    const bool chat = r_.endpoint == Endpoint::chat;
    for (const auto& [key, value] : o_) {
      const std::string k(key);
      std::optional<ApiError> e;
      if (value.is_null() && k != "messages" && k != "prompt") continue;  // null is "default"
      if (k == "model") {
        e = string(k, value, r_.model);
      } else if (k == "prompt" && !chat) {
        e = prompt(value);
      } else if (k == "messages" && chat) {
        e = messages(value);
      } else if (k == "max_tokens" || (chat && k == "max_completion_tokens")) {
        e = max_tokens(k, value);
      } else if (k == "temperature") {
        e = number_in(k, value, 0, 2, r_.sampling.temperature);
      } else if (k == "top_p") {
        e = number_in(k, value, 0, 1, r_.sampling.top_p);
      } else if (k == "min_p") {
        e = number_in(k, value, 0, 1, r_.sampling.min_p);
      } else if (k == "repeat_penalty") {
        e = number_in(k, value, 0.01, 100, r_.sampling.repeat_penalty);
      } else if (k == "top_k") {
        e = integer_in(k, value, 0, std::numeric_limits<int32_t>::max(), r_.sampling.top_k);
      } else if (k == "ignore_eos") {
        e = boolean(k, value, r_.ignore_eos);
      } else if (k == "stop") {
        e = stop(value);
      } else if (k == "seed") {
        e = seed(value);
      } else if (k == "n" || k == "best_of") {
        int32_t n = 1;
        e = integer_in(k, value, 1, 128, n);
        if (!e && n != 1) e = unsupported(k, "other than 1");
      } else if (k == "stream") {
        e = boolean(k, value, r_.stream);
      } else if (k == "stream_options") {
        e = stream_options(value);
      } else if (k == "logprobs") {
        e = chat ? chat_logprobs(value) : completion_logprobs(value);
      } else if (k == "top_logprobs" && chat) {
        // Applied after the loop: it only counts when `logprobs` is true.
        e = integer_in(k, value, 0, 20, top_logprobs_);
      } else if (k == "echo") {
        bool echo = false;
        e = boolean(k, value, echo);
        if (!e && echo) e = unsupported(k, "true");
      } else if (k == "suffix" && !chat) {
        if (!value.is_string()) return wrong_type(k, "a string");
        if (!value.get_string().empty()) e = unsupported(k, "text");
      } else if (k == "presence_penalty" || k == "frequency_penalty") {
        float penalty = 0;
        e = number_in(k, value, -2, 2, penalty);
        if (!e && penalty != 0) e = unsupported(k, "other than 0 (use repeat_penalty)");
      } else if (k == "logit_bias") {
        if (!value.is_object()) return wrong_type(k, "an object");
        if (!value.get_object().empty()) e = unsupported(k, "");
      } else if (chat && (k == "tools" || k == "tool_choice" || k == "functions" ||
                          k == "function_call" || k == "audio" || k == "prediction")) {
        e = unsupported(k, "");
      } else if (chat && k == "response_format") {
        if (!value.is_object()) return wrong_type(k, "an object");
        const json::value* type = value.get_object().if_contains("type");
        if (!type || !type->is_string() || type->get_string() != "text")
          e = unsupported(k, "other than {\"type\": \"text\"}");
      } else if (k == "user" || k == "store" || k == "metadata" || k == "service_tier" ||
                 k == "parallel_tool_calls" || (chat && k == "modalities")) {
        // Bookkeeping fields that do not change what is generated.
      } else {
        e = invalid("Unrecognized request argument supplied: " + k, k, "unknown_parameter");
      }
      if (e) return e;
    }
    if (chat && r_.logprobs >= 0) r_.logprobs = top_logprobs_;
    if (chat && !o_.if_contains("messages"))
      return invalid("'messages' is required", "messages", "missing_required_parameter");
    if (!chat && !o_.if_contains("prompt"))
      return invalid("'prompt' is required", "prompt", "missing_required_parameter");
    if (r_.sampling.top_p == 0) r_.sampling.greedy = true;
    return std::nullopt;
  }

 private:
  std::optional<ApiError> string(const std::string& k, const json::value& v, std::string& out) {
    if (!v.is_string()) return wrong_type(k, "a string");
    out = v.get_string();
    return std::nullopt;
  }
  std::optional<ApiError> boolean(const std::string& k, const json::value& v, bool& out) {
    if (!v.is_bool()) return wrong_type(k, "a boolean");
    out = v.get_bool();
    return std::nullopt;
  }
  template <class T>
  std::optional<ApiError> number_in(const std::string& k, const json::value& v, double lo,
                                    double hi, T& out) {
    const std::optional<double> x = as_number(v);
    if (!x) return wrong_type(k, "a number");
    if (!(*x >= lo && *x <= hi))
      return invalid("'" + k + "' must be between " + json::serialize(json::value(lo)) + " and " +
                         json::serialize(json::value(hi)),
                     k);
    out = static_cast<T>(*x);
    return std::nullopt;
  }
  std::optional<ApiError> integer_in(const std::string& k, const json::value& v, int64_t lo,
                                     int64_t hi, int32_t& out) {
    const std::optional<int64_t> x = as_integer(v);
    if (!x) return wrong_type(k, "an integer");
    if (*x < lo || *x > hi)
      return invalid(
          "'" + k + "' must be between " + std::to_string(lo) + " and " + std::to_string(hi), k);
    out = static_cast<int32_t>(*x);
    return std::nullopt;
  }
  std::optional<ApiError> max_tokens(const std::string& k, const json::value& v) {
    int32_t n = 0;
    if (auto e = integer_in(k, v, 1, std::numeric_limits<int32_t>::max(), n)) return e;
    r_.max_tokens = n;
    return std::nullopt;
  }
  std::optional<ApiError> seed(const json::value& v) {
    const std::optional<int64_t> x = as_integer(v);
    if (!x) return wrong_type("seed", "an integer");
    r_.sampling.seed = static_cast<uint64_t>(*x);
    r_.seeded = true;
    return std::nullopt;
  }
  std::optional<ApiError> stop(const json::value& v) {
    if (v.is_string()) {
      if (!v.get_string().empty()) r_.stop.emplace_back(v.get_string());
      return std::nullopt;
    }
    if (!v.is_array()) return wrong_type("stop", "a string or an array of strings");
    if (v.get_array().size() > 4) return invalid("'stop' holds at most 4 sequences", "stop");
    for (const json::value& s : v.get_array()) {
      if (!s.is_string()) return wrong_type("stop", "a string or an array of strings");
      if (!s.get_string().empty()) r_.stop.emplace_back(s.get_string());
    }
    return std::nullopt;
  }
  std::optional<ApiError> stream_options(const json::value& v) {
    if (!v.is_object()) return wrong_type("stream_options", "an object");
    for (const auto& [key, value] : v.get_object()) {
      if (key != "include_usage")
        return invalid("Unrecognized stream option: " + std::string(key), "stream_options",
                       "unknown_parameter");
      if (!value.is_bool()) return wrong_type("stream_options.include_usage", "a boolean");
      r_.include_usage = value.get_bool();
    }
    return std::nullopt;
  }
  std::optional<ApiError> completion_logprobs(const json::value& v) {
    int32_t k = 0;
    if (auto e = integer_in("logprobs", v, 0, 5, k)) return e;
    r_.logprobs = k;
    return std::nullopt;
  }
  std::optional<ApiError> chat_logprobs(const json::value& v) {
    bool on = false;
    if (auto e = boolean("logprobs", v, on)) return e;
    r_.logprobs = on ? 0 : -1;
    return std::nullopt;
  }
  // A string, one string in an array, an array of token ids, or one such array in an array.
  std::optional<ApiError> prompt(const json::value& v) {
    const char* expected = "a string, an array of one string, or an array of token ids";
    if (v.is_string()) {
      r_.prompt = v.get_string();
      return std::nullopt;
    }
    if (!v.is_array()) return wrong_type("prompt", expected);
    const json::array& a = v.get_array();
    if (a.size() == 1 && (a[0].is_string() || a[0].is_array())) {
      if (a[0].is_string()) {
        r_.prompt = a[0].get_string();
        return std::nullopt;
      }
      return token_ids(a[0].get_array());
    }
    if (!a.empty() && (a[0].is_string() || a[0].is_array()))
      return unsupported("prompt", "with more than one prompt");
    return token_ids(a);
  }
  std::optional<ApiError> token_ids(const json::array& a) {
    std::vector<int32_t> ids;
    ids.reserve(a.size());
    for (const json::value& t : a) {
      const std::optional<int64_t> id = as_integer(t);
      if (!id || *id < 0 || *id > std::numeric_limits<int32_t>::max())
        return wrong_type("prompt", "an array of token ids (integers >= 0)");
      ids.push_back(static_cast<int32_t>(*id));
    }
    r_.prompt_ids = std::move(ids);
    return std::nullopt;
  }
  std::optional<ApiError> messages(const json::value& v) {
    if (!v.is_array()) return wrong_type("messages", "an array of messages");
    if (v.get_array().empty()) return invalid("'messages' must not be empty", "messages");
    size_t i = 0;
    for (const json::value& m : v.get_array()) {
      const std::string at = "messages[" + std::to_string(i++) + "]";
      if (!m.is_object()) return wrong_type(at, "an object");
      tok::ChatMessage msg;
      for (const auto& [key, value] : m.get_object()) {
        if (key == "role") {
          if (!value.is_string()) return wrong_type(at + ".role", "a string");
          msg.role = value.get_string();
          if (msg.role == "developer") msg.role = "system";  // OpenAI's newer name for it
        } else if (key == "content") {
          if (auto e = content(at + ".content", value, msg.content)) return e;
        } else if (key == "name") {
          if (!value.is_string()) return wrong_type(at + ".name", "a string");
        } else if (key == "refusal" && value.is_null()) {
        } else {
          return invalid("Unrecognized message field: " + std::string(key),
                         at + "." + std::string(key), "unknown_parameter");
        }
      }
      if (msg.role.empty())
        return invalid("'" + at + ".role' is required", at + ".role", "missing_required_parameter");
      if (msg.role != "system" && msg.role != "user" && msg.role != "assistant")
        return invalid("role '" + msg.role + "' is not supported (system, user, assistant)",
                       at + ".role");
      r_.messages.push_back(std::move(msg));
    }
    return std::nullopt;
  }
  // A string, null, or an array of {"type": "text", "text": ...} parts (joined).
  std::optional<ApiError> content(const std::string& at, const json::value& v, std::string& out) {
    if (v.is_null()) return std::nullopt;
    if (v.is_string()) {
      out = v.get_string();
      return std::nullopt;
    }
    if (!v.is_array()) return wrong_type(at, "a string or an array of text parts");
    for (const json::value& part : v.get_array()) {
      const json::object* p = part.if_object();
      const json::value* type = p ? p->if_contains("type") : nullptr;
      const json::value* text = p ? p->if_contains("text") : nullptr;
      if (!type || !type->is_string()) return wrong_type(at, "an array of content parts");
      if (type->get_string() != "text")
        return unsupported(at, "of type '" + std::string(type->get_string()) + "'");
      if (!text || !text->is_string()) return wrong_type(at + ".text", "a string");
      out += text->get_string();
    }
    return std::nullopt;
  }

  const json::object& o_;
  GenerationRequest& r_;
  int32_t top_logprobs_ = 0;
};

// A token's text; one that is not valid UTF-8 on its own (part of a character) is written
// "bytes:\\xNN..." as OpenAI writes such tokens, so distinct tokens keep distinct names.
json::value token_text(std::string_view bytes) {
  if (tok::utf8_lossy(bytes) == bytes) return json::value(json::string(bytes));
  std::string out = "bytes:";
  for (unsigned char c : bytes) {
    char hex[5];
    std::snprintf(hex, sizeof hex, "\\x%02x", c);
    out += hex;
  }
  return json::value(out);
}

json::array byte_values(std::string_view bytes) {
  json::array a;
  for (unsigned char c : bytes)
    a.push_back(c);
  return a;
}

json::value logprobs_json(const ReplyMeta& meta, std::span<const TokenLogprob> lps) {
  if (!meta.logprobs) return nullptr;
  if (meta.endpoint == Endpoint::chat) {
    json::array content;
    for (const TokenLogprob& t : lps) {
      json::array top;
      for (const auto& [bytes, lp] : t.top)
        top.push_back(json::object{
            {"token", token_text(bytes)}, {"logprob", lp}, {"bytes", byte_values(bytes)}});
      content.push_back(json::object{{"token", token_text(t.bytes)},
                                     {"logprob", t.logprob},
                                     {"bytes", byte_values(t.bytes)},
                                     {"top_logprobs", std::move(top)}});
    }
    return json::object{{"content", std::move(content)}, {"refusal", nullptr}};
  }
  json::array tokens, token_logprobs, top_logprobs, text_offset;
  int64_t offset = 0;
  for (const TokenLogprob& t : lps) {
    tokens.push_back(token_text(t.bytes));
    token_logprobs.push_back(t.logprob);
    json::object top;
    for (const auto& [bytes, lp] : t.top)
      top[token_text(bytes).as_string()] = lp;
    top_logprobs.push_back(std::move(top));
    text_offset.push_back(offset);
    offset += static_cast<int64_t>(t.bytes.size());
  }
  return json::object{{"tokens", std::move(tokens)},
                      {"token_logprobs", std::move(token_logprobs)},
                      {"top_logprobs", std::move(top_logprobs)},
                      {"text_offset", std::move(text_offset)}};
}

json::object usage_json(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens}};
}

json::value finish(std::string_view reason) {
  return reason.empty() ? json::value(nullptr) : json::value(json::string(reason));
}

json::object envelope(const ReplyMeta& meta, const char* object) {
  return {{"id", meta.id}, {"object", object}, {"created", meta.created}, {"model", meta.model}};
}

}  // namespace

ApiResult<GenerationRequest> parse_generation_request(Endpoint endpoint, std::string_view body) {
  boost::system::error_code ec;
  json::parse_options po;
  po.max_depth = 16;
  const json::value v = json::parse(body, ec, {}, po);
  if (ec) return invalid("the request body is not valid JSON: " + ec.message(), "", "invalid_json");
  if (!v.is_object()) return invalid("the request body must be a JSON object", "", "invalid_json");
  GenerationRequest r;
  r.endpoint = endpoint;
  r.sampling.temperature = 1.0f;
  r.sampling.top_p = 1.0f;
  r.sampling.top_k = 0;
  r.sampling.min_p = 0.0f;
  if (std::optional<ApiError> e = Fields(v.get_object(), r).read()) return *e;
  return r;
}

std::string error_body(const ApiError& e) {
  return json::serialize(
      json::object{{"error",
                    {{"message", e.message},
                     {"type", e.type},
                     {"param", e.param.empty() ? json::value(nullptr) : json::value(e.param)},
                     {"code", e.code.empty() ? json::value(nullptr) : json::value(e.code)}}}});
}

std::string full_response(const ReplyMeta& meta, std::string_view text,
                          std::string_view finish_reason, const Usage& usage,
                          std::span<const TokenLogprob> logprobs) {
  const bool chat = meta.endpoint == Endpoint::chat;
  json::object choice{{"index", 0}};
  if (chat)
    choice["message"] =
        json::object{{"role", "assistant"}, {"content", text}, {"refusal", nullptr}};
  else
    choice["text"] = text;
  choice["logprobs"] = logprobs_json(meta, logprobs);
  choice["finish_reason"] = finish(finish_reason);
  json::object o = envelope(meta, chat ? "chat.completion" : "text_completion");
  o["choices"] = json::array{std::move(choice)};
  o["usage"] = usage_json(usage);
  return json::serialize(o);
}

std::string stream_chunk(const ReplyMeta& meta, std::string_view text,
                         std::span<const TokenLogprob> logprobs, std::string_view finish_reason,
                         bool first) {
  const bool chat = meta.endpoint == Endpoint::chat;
  json::object choice{{"index", 0}};
  if (chat) {
    json::object delta;
    if (first) delta["role"] = "assistant";
    if (!text.empty() || first) delta["content"] = text;
    choice["delta"] = std::move(delta);
  } else {
    choice["text"] = text;
  }
  choice["logprobs"] = logprobs_json(meta, logprobs);
  choice["finish_reason"] = finish(finish_reason);
  json::object o = envelope(meta, chat ? "chat.completion.chunk" : "text_completion");
  o["choices"] = json::array{std::move(choice)};
  return json::serialize(o);
}

std::string usage_chunk(const ReplyMeta& meta, const Usage& usage) {
  json::object o =
      envelope(meta, meta.endpoint == Endpoint::chat ? "chat.completion.chunk" : "text_completion");
  o["choices"] = json::array{};
  o["usage"] = usage_json(usage);
  return json::serialize(o);
}

std::string model_object(std::string_view id, int64_t created) {
  return json::serialize(
      json::object{{"id", id}, {"object", "model"}, {"created", created}, {"owned_by", "bitnet"}});
}

std::string model_list(std::string_view id, int64_t created) {
  return json::serialize(json::object{
      {"object", "list"}, {"data", json::array{json::parse(model_object(id, created))}}});
}

}  // namespace bitnet::server
