// Chat prompts: the conversation formats of the models the runtime runs, written out in C++
// rather than through a Jinja engine. A model's `tokenizer.chat_template` is recognised by its
// markers (as llama.cpp does); the architecture decides when there is none.
#pragma once

#include <bitnet/runtime/error.hpp>
#include <bitnet/runtime/tokenizer/tokenizer.hpp>
#include <bitnet/runtime/tokenizer/vocab.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bitnet::tok {

enum class ChatFormat {
  llama3,  // <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>
  llama2,  // <s>[INST] <<SYS>>\nsystem\n<</SYS>>\n\nuser [/INST] assistant </s>
  chatml,  // <|im_start|>role\ncontent<|im_end|>\n (Qwen)
  phi3,    // <|role|>\ncontent<|end|>\n
  bitnet,  // Role: content<|eot_id|> (Microsoft's BitNet b1.58 2B4T)
};

struct ChatTemplate {
  ChatFormat format = ChatFormat::chatml;
  // Sent as the system turn when the conversation has none (Qwen's templates carry one).
  std::string default_system;
};

struct ChatMessage {
  std::string role;  // system, user or assistant
  std::string content;
};

std::string_view chat_format_name(ChatFormat format);
// "llama3, llama2, chatml, phi3, bitnet", for messages and --help.
std::string chat_format_names();
std::optional<ChatFormat> parse_chat_format(std::string_view name);

// The format a Jinja chat template writes, or nothing when it is none of ours.
std::optional<ChatTemplate> detect_chat_template(std::string_view jinja);

// `override_name` (the --chat-template option) when given, else the vocabulary's own
// chat_template, else the default of `architecture` (a GGUF general.architecture; may be empty).
Result<ChatTemplate> choose_chat_template(std::string_view override_name, const VocabData& vocab,
                                          std::string_view architecture);

struct RenderedChat {
  std::string text;
  // Where the template's own markup lies in `text`: the only places special tokens are read.
  std::vector<ByteRange> markup;
  bool starts_with_bos = false;
};

// The prompt for `messages`; with `add_generation_prompt` it ends where the assistant's reply
// begins. Refuses unknown roles and, for llama2, turns that do not alternate.
Result<RenderedChat> render_chat(const ChatTemplate& tmpl, std::span<const ChatMessage> messages,
                                 bool add_generation_prompt, const VocabData& vocab);

// A rendered prompt as token ids: markup parsed for special tokens, message text never; the
// tokenizer's BOS is added unless the template already starts with it.
std::vector<TokenId> encode_rendered_chat(const Tokenizer& tokenizer, const RenderedChat& chat);

// render_chat, then encode_rendered_chat.
Result<std::vector<TokenId>> encode_chat(const Tokenizer& tokenizer, const ChatTemplate& tmpl,
                                         std::span<const ChatMessage> messages,
                                         bool add_generation_prompt);

}  // namespace bitnet::tok
