// Chat formats on a hand-made vocabulary: detection from template text, the choice between
// override, template and architecture, rendering rules (trim, llama2's system fold, Qwen's
// default system turn), markup ranges, and the errors a caller can get.
#include <bitnet/runtime/tokenizer/chat_template.hpp>

#include <boost/test/unit_test.hpp>

using namespace bitnet::tok;

namespace {

VocabData vocab(std::vector<std::string> specials = {}) {
  VocabData v;
  v.tokens = {"<s>", "</s>"};
  v.bos = 0;
  v.eos = 1;
  for (std::string& s : specials) {
    v.added.push_back({.id = static_cast<TokenId>(v.tokens.size()), .content = s});
    v.tokens.push_back(std::move(s));
  }
  return v;
}

std::string render(ChatFormat f, std::vector<ChatMessage> m, bool gen = true,
                   std::string default_system = {}) {
  auto r = render_chat({f, std::move(default_system)}, m, gen, vocab());
  BOOST_REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
  return r->text;
}

std::string error_of(const bitnet::Result<ChatTemplate>& r) {
  BOOST_REQUIRE(!r.has_value());
  return r.error().message;
}

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(chat_template)

BOOST_AUTO_TEST_CASE(formats_are_recognised_by_their_markers) {
  const std::pair<const char*, ChatFormat> cases[] = {
      {"{{ '<|start_header_id|>' + role + '<|end_header_id|>' }}", ChatFormat::llama3},
      {"{{ '<|im_start|>' + message['role'] }}", ChatFormat::chatml},
      {"{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}", ChatFormat::llama2},
      {"{{'<|user|>\n' + message['content'] + '<|end|>\n'}}{{ '<|assistant|>\n' }}",
       ChatFormat::phi3},
      {"{{ 'User: ' + c + '<|eot_id|>' }}{{ 'Assistant: ' }}", ChatFormat::bitnet},
      {" phi3\n", ChatFormat::phi3},  // a bare name, as llama.cpp accepts
  };
  for (const auto& [jinja, format] : cases) {
    const auto t = detect_chat_template(jinja);
    BOOST_REQUIRE_MESSAGE(t.has_value(), jinja);
    BOOST_TEST(chat_format_name(t->format) == chat_format_name(format), jinja);
  }
  BOOST_TEST(!detect_chat_template("{{ '### Instruction:' + content }}").has_value());
}

BOOST_AUTO_TEST_CASE(qwen_default_system_comes_from_the_template) {
  const auto t = detect_chat_template(
      "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + "
      "messages[0]['content'] }}{%- else %}{{- '<|im_start|>system\\nYou are \\'Q\\'.<|im_end|>"
      "\\n' }}{%- endif %}");
  BOOST_REQUIRE(t.has_value());
  BOOST_TEST(t->default_system == "You are 'Q'.");
  BOOST_TEST(render(ChatFormat::chatml, {{"user", "hi"}}, true, t->default_system) ==
             "<|im_start|>system\nYou are 'Q'.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
             "<|im_start|>assistant\n");
  // A system turn of the conversation replaces the default.
  BOOST_TEST(
      render(ChatFormat::chatml, {{"system", "S"}, {"user", "hi"}}, false, t->default_system) ==
      "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n");
}

BOOST_AUTO_TEST_CASE(override_then_template_then_architecture) {
  VocabData v = vocab({"<|start_header_id|>"});
  v.chat_template = "{{ '<|im_start|>' }}";
  BOOST_TEST(chat_format_name(choose_chat_template("phi3", v, "llama")->format) == "phi3");
  BOOST_TEST(chat_format_name(choose_chat_template("", v, "llama")->format) == "chatml");
  v.chat_template.clear();
  BOOST_TEST(chat_format_name(choose_chat_template("", v, "llama")->format) == "llama3");
  BOOST_TEST(chat_format_name(choose_chat_template("", vocab(), "llama")->format) == "llama2");
  BOOST_TEST(chat_format_name(choose_chat_template("", v, "bitnet-b1.58")->format) == "bitnet");
  BOOST_TEST(chat_format_name(choose_chat_template("", v, "qwen2")->format) == "chatml");
  BOOST_TEST(chat_format_name(choose_chat_template("", v, "phi3")->format) == "phi3");

  BOOST_TEST(contains(error_of(choose_chat_template("vicuna", v, "llama")),
                      "unknown chat template 'vicuna'; choose one of llama3, llama2, chatml"));
  BOOST_TEST(contains(error_of(choose_chat_template("", v, "gemma")),
                      "architecture 'gemma' has no default format; pass --chat-template"));
  v.chat_template = "{{ '<start_of_turn>' }}";
  BOOST_TEST(contains(error_of(choose_chat_template("", v, "llama")),
                      "chat_template is not one of the formats this runtime writes"));
}

BOOST_AUTO_TEST_CASE(formats_render_as_their_templates) {
  const std::vector<ChatMessage> chat = {
      {"system", " sys "}, {"user", " hi\n"}, {"assistant", "yo "}, {"user", "bye"}};
  BOOST_TEST(render(ChatFormat::llama3, chat) ==
             "<s><|start_header_id|>system<|end_header_id|>\n\nsys<|eot_id|>"
             "<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>"
             "<|start_header_id|>assistant<|end_header_id|>\n\nyo<|eot_id|>"
             "<|start_header_id|>user<|end_header_id|>\n\nbye<|eot_id|>"
             "<|start_header_id|>assistant<|end_header_id|>\n\n");
  BOOST_TEST(render(ChatFormat::llama2, chat) ==
             "<s>[INST] <<SYS>>\n sys \n<</SYS>>\n\n hi [/INST] yo </s><s>[INST] bye [/INST]");
  BOOST_TEST(render(ChatFormat::phi3, chat, false) ==
             "<|system|>\n sys <|end|>\n<|user|>\n hi\n<|end|>\n<|assistant|>\nyo <|end|>\n"
             "<|user|>\nbye<|end|>\n</s>");
  BOOST_TEST(render(ChatFormat::bitnet, chat) ==
             "<s>System: sys<|eot_id|>User: hi<|eot_id|>Assistant: yo<|eot_id|>User: "
             "bye<|eot_id|>Assistant: ");
  BOOST_TEST(render(ChatFormat::llama2, {{"system", "S"}, {"user", " \n"}}) ==
             "<s>[INST] <<SYS>>\nS\n<</SYS>> [/INST]");
}

BOOST_AUTO_TEST_CASE(markup_ranges_cover_only_the_template) {
  auto r = render_chat({ChatFormat::llama3, {}}, std::vector<ChatMessage>{{"user", "x<s>"}}, true,
                       vocab());
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->starts_with_bos);
  std::string markup;
  for (const ByteRange& m : r->markup)
    markup += r->text.substr(m.begin, m.end - m.begin) + "|";
  BOOST_TEST(markup ==
             "<s><|start_header_id|>user<|end_header_id|>\n\n|<|eot_id|><|start_header_"
             "id|>assistant<|end_header_id|>\n\n|");
}

BOOST_AUTO_TEST_CASE(bad_conversations_are_refused) {
  auto role = render_chat({ChatFormat::chatml, {}},
                          std::vector<ChatMessage>{{"user", "a"}, {"tool", "b"}}, true, vocab());
  BOOST_REQUIRE(!role.has_value());
  BOOST_TEST(role.error().message ==
             "message 2 has role 'tool'; the roles are system, user and assistant");
  auto order =
      render_chat({ChatFormat::llama2, {}},
                  std::vector<ChatMessage>{{"system", "s"}, {"assistant", "a"}}, true, vocab());
  BOOST_REQUIRE(!order.has_value());
  BOOST_TEST(contains(order.error().message, "alternate user, assistant, user"));
  BOOST_TEST(contains(order.error().message, "message 2 is 'assistant'"));
}

BOOST_AUTO_TEST_SUITE_END()
