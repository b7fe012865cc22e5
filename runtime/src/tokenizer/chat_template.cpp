#include <bitnet/runtime/log.hpp>
#include <bitnet/runtime/text/unicode.hpp>
#include <bitnet/runtime/tokenizer/chat_template.hpp>

#include <algorithm>
#include <array>

namespace bitnet::tok {
namespace {

constexpr std::array kFormats = {ChatFormat::llama3, ChatFormat::llama2, ChatFormat::chatml,
                                 ChatFormat::phi3, ChatFormat::bitnet};

// Python's str.isspace, which Jinja's trim and str.strip() follow: Unicode White_Space and the
// four ASCII separators U+001C..U+001F.
bool py_space(char32_t cp) {
  return text::is_whitespace(cp) || (cp >= 0x1c && cp <= 0x1f);
}

std::string_view lstrip(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const text::Utf8Char u = text::decode_utf8(s, i);
    if (!u.valid || !py_space(u.cp)) break;
    i += u.len;
  }
  return s.substr(i);
}

std::string_view rstrip(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xc0) == 0x80)
      --start;
    const text::Utf8Char u = text::decode_utf8(s, start);
    if (!u.valid || start + u.len != end || !py_space(u.cp)) break;
    end = start;
  }
  return s.substr(0, end);
}

std::string_view strip(std::string_view s) {
  return rstrip(lstrip(s));
}

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

std::optional<TokenId> added_token(const VocabData& v, std::string_view content) {
  for (const AddedToken& a : v.added)
    if (a.content == content) return a.id;
  return std::nullopt;
}

std::string_view token_text(const VocabData& v, const std::optional<TokenId>& id) {
  if (!id || *id < 0 || static_cast<size_t>(*id) >= v.tokens.size()) return {};
  return v.tokens[static_cast<size_t>(*id)];
}

// Qwen's templates send a fixed system turn when the conversation has none; it is the text of
// the Jinja string literal '<|im_start|>system\n...<|im_end|>' that holds no expression.
std::string chatml_default_system(std::string_view jinja) {
  for (std::string_view head : {"<|im_start|>system\\n", "<|im_start|>system\n"}) {
    for (size_t at = jinja.find(head); at != std::string_view::npos;
         at = jinja.find(head, at + 1)) {
      std::string out;
      size_t i = at + head.size();
      for (; i < jinja.size() && !jinja.substr(i).starts_with("<|im_end|>"); ++i) {
        const char c = jinja[i];
        if (c == '\'' || c == '"' || c == '{' || c == '}') break;
        if (c == '\\' && i + 1 < jinja.size()) {
          const char e = jinja[++i];
          out.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
        } else {
          out.push_back(c);
        }
      }
      if (i < jinja.size() && jinja.substr(i).starts_with("<|im_end|>") && !out.empty()) return out;
    }
  }
  return {};
}

// Appends text and remembers which parts are the template's own markup.
class Builder {
 public:
  void markup(std::string_view s) {
    if (s.empty()) return;
    const size_t begin = out_.text.size();
    out_.text.append(s);
    if (!out_.markup.empty() && out_.markup.back().end == begin)
      out_.markup.back().end = out_.text.size();
    else
      out_.markup.push_back({begin, out_.text.size()});
  }
  void content(std::string_view s) { out_.text.append(s); }
  RenderedChat take(std::string_view bos) {
    out_.starts_with_bos = !bos.empty() && out_.text.starts_with(bos);
    return std::move(out_);
  }

 private:
  RenderedChat out_;
};

std::string capitalized(std::string_view role) {
  std::string s(role);
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

Error bad_chat(std::string msg) {
  return make_error(BITNET_STATUS_INVALID_ARGUMENT, std::move(msg));
}

// Meta's Llama-2-chat template: the system turn folds into the first user turn, and every
// user turn opens with BOS.
Result<void> render_llama2(Builder& b, std::span<const ChatMessage> messages, std::string_view bos,
                           std::string_view eos) {
  std::optional<std::string_view> system;
  if (!messages.empty() && messages[0].role == "system") {
    system = messages[0].content;
    messages = messages.subspan(1);
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    const bool user_turn = i % 2 == 0;
    if ((m.role == "user") != user_turn || (m.role != "user" && m.role != "assistant"))
      return bad_chat(
          "the llama2 chat format needs turns that alternate user, assistant, "
          "user, ... after an optional first system message; message " +
          std::to_string(i + (system ? 2 : 1)) + " is '" + m.role + "'");
    if (!user_turn) {
      b.markup(" ");
      b.content(strip(m.content));
      b.markup(" ");
      b.markup(eos);
      continue;
    }
    b.markup(bos);
    b.markup("[INST] ");
    if (i == 0 && system) {
      // The template strips system block and message together: leading space of the system
      // text is kept, and an empty message strips the block's trailing newlines too.
      const std::string_view user = rstrip(m.content);
      b.markup("<<SYS>>\n");
      b.content(*system);
      b.markup(user.empty() ? "\n<</SYS>>" : "\n<</SYS>>\n\n");
      b.content(user);
    } else {
      b.content(strip(m.content));
    }
    b.markup(" [/INST]");
  }
  return {};
}

}  // namespace

std::string_view chat_format_name(ChatFormat format) {
  switch (format) {
    case ChatFormat::llama3:
      return "llama3";
    case ChatFormat::llama2:
      return "llama2";
    case ChatFormat::chatml:
      return "chatml";
    case ChatFormat::phi3:
      return "phi3";
    case ChatFormat::bitnet:
      return "bitnet";
  }
  return "unknown";
}

std::string chat_format_names() {
  std::string out;
  for (ChatFormat f : kFormats)
    out.append(out.empty() ? "" : ", ").append(chat_format_name(f));
  return out;
}

std::optional<ChatFormat> parse_chat_format(std::string_view name) {
  for (ChatFormat f : kFormats)
    if (chat_format_name(f) == name) return f;
  return std::nullopt;
}

std::optional<ChatTemplate> detect_chat_template(std::string_view jinja) {
  if (const auto named = parse_chat_format(strip(jinja))) return ChatTemplate{*named, {}};
  if (contains(jinja, "<|start_header_id|>") && contains(jinja, "<|end_header_id|>"))
    return ChatTemplate{ChatFormat::llama3, {}};
  if (contains(jinja, "<|im_start|>"))
    return ChatTemplate{ChatFormat::chatml, chatml_default_system(jinja)};
  if (contains(jinja, "[INST]")) return ChatTemplate{ChatFormat::llama2, {}};
  if (contains(jinja, "<|assistant|>") && contains(jinja, "<|end|>"))
    return ChatTemplate{ChatFormat::phi3, {}};
  if (contains(jinja, "<|eot_id|>") && contains(jinja, "Assistant: "))
    return ChatTemplate{ChatFormat::bitnet, {}};
  return std::nullopt;
}

Result<ChatTemplate> choose_chat_template(std::string_view override_name, const VocabData& vocab,
                                          std::string_view architecture) {
  if (!override_name.empty()) {
    if (const auto f = parse_chat_format(override_name)) return ChatTemplate{*f, {}};
    return bad_chat("unknown chat template '" + std::string(override_name) + "'; choose one of " +
                    chat_format_names());
  }
  if (!vocab.chat_template.empty()) {
    if (auto t = detect_chat_template(vocab.chat_template)) {
      log::debug("chat", "format ", chat_format_name(t->format),
                 " (from the tokenizer's chat_template)");
      return *t;
    }
    return bad_chat(
        "the tokenizer's chat_template is not one of the formats this runtime "
        "writes (" +
        chat_format_names() + "); pass --chat-template with the one the model was trained on");
  }
  std::optional<ChatFormat> f;
  if (architecture == "bitnet-b1.58" || architecture == "bitnet")
    f = ChatFormat::bitnet;
  else if (architecture == "qwen2")
    f = ChatFormat::chatml;
  else if (architecture == "phi3")
    f = ChatFormat::phi3;
  else if (architecture == "llama")
    f = added_token(vocab, "<|start_header_id|>") ? ChatFormat::llama3 : ChatFormat::llama2;
  if (!f)
    return bad_chat("the tokenizer carries no chat_template and " +
                    (architecture.empty() ? std::string("no architecture is known")
                                          : "architecture '" + std::string(architecture) +
                                                "' has no default format") +
                    "; pass --chat-template, one of " + chat_format_names());
  log::debug("chat", "format ", chat_format_name(*f), " (default of architecture ", architecture,
             ")");
  return ChatTemplate{*f, {}};
}

Result<RenderedChat> render_chat(const ChatTemplate& tmpl, std::span<const ChatMessage> messages,
                                 bool add_generation_prompt, const VocabData& vocab) {
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& r = messages[i].role;
    if (r != "system" && r != "user" && r != "assistant")
      return bad_chat("message " + std::to_string(i + 1) + " has role '" + r +
                      "'; the roles are system, user and assistant");
  }
  const std::string_view bos = token_text(vocab, vocab.bos), eos = token_text(vocab, vocab.eos);
  Builder b;
  switch (tmpl.format) {
    case ChatFormat::llama3:
      for (size_t i = 0; i < messages.size(); ++i) {
        if (i == 0) b.markup(bos);
        b.markup("<|start_header_id|>");
        b.markup(messages[i].role);
        b.markup("<|end_header_id|>\n\n");
        b.content(strip(messages[i].content));
        b.markup("<|eot_id|>");
      }
      if (add_generation_prompt) b.markup("<|start_header_id|>assistant<|end_header_id|>\n\n");
      break;
    case ChatFormat::llama2:
      if (auto r = render_llama2(b, messages, bos, eos); !r) return r.error();
      break;
    case ChatFormat::chatml: {
      size_t first = 0;
      if (!messages.empty() && messages[0].role == "system") {
        b.markup("<|im_start|>system\n");
        b.content(messages[0].content);
        b.markup("<|im_end|>\n");
        first = 1;
      } else if (!tmpl.default_system.empty()) {
        b.markup("<|im_start|>system\n");
        b.markup(tmpl.default_system);
        b.markup("<|im_end|>\n");
      }
      for (const ChatMessage& m : messages.subspan(first)) {
        b.markup("<|im_start|>");
        b.markup(m.role);
        b.markup("\n");
        b.content(m.content);
        b.markup("<|im_end|>\n");
      }
      if (add_generation_prompt) b.markup("<|im_start|>assistant\n");
      break;
    }
    case ChatFormat::phi3:
      for (const ChatMessage& m : messages) {
        b.markup("<|" + m.role + "|>\n");
        b.content(m.content);
        b.markup("<|end|>\n");
      }
      b.markup(add_generation_prompt ? std::string_view("<|assistant|>\n") : eos);
      break;
    case ChatFormat::bitnet:
      for (size_t i = 0; i < messages.size(); ++i) {
        if (i == 0) b.markup(bos);
        b.markup(capitalized(messages[i].role) + ": ");
        b.content(strip(messages[i].content));
        b.markup("<|eot_id|>");
      }
      if (add_generation_prompt) b.markup("Assistant: ");
      break;
  }
  return b.take(bos);
}

std::vector<TokenId> encode_rendered_chat(const Tokenizer& tokenizer, const RenderedChat& chat) {
  const VocabData& v = tokenizer.vocab();
  // BOS only: an EOS the tokenizer would append to plain text would end the prompt.
  std::vector<TokenId> ids;
  if (v.add_bos && v.bos && !chat.starts_with_bos) ids.push_back(*v.bos);
  const std::vector<TokenId> body = tokenizer.encode(
      chat.text, {.add_special = false, .parse_special = true, .special_ranges = chat.markup});
  ids.insert(ids.end(), body.begin(), body.end());
  return ids;
}

Result<std::vector<TokenId>> encode_chat(const Tokenizer& tokenizer, const ChatTemplate& tmpl,
                                         std::span<const ChatMessage> messages,
                                         bool add_generation_prompt) {
  Result<RenderedChat> r = render_chat(tmpl, messages, add_generation_prompt, tokenizer.vocab());
  if (!r) return r.error();
  return encode_rendered_chat(tokenizer, *r);
}

}  // namespace bitnet::tok
