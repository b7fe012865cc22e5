// What a tokenizer is made of, whichever file it came from: the loaders (GGUF metadata, HF
// tokenizer.json) fill a VocabData, and Tokenizer::create builds the engine from it. Keeping the
// two apart is what makes "the same vocabulary loaded either way tokenizes identically" testable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bitnet::tok {

using TokenId = int32_t;

// GGUF's tokenizer.ggml.token_type values.
enum class TokenKind : uint8_t {
  normal = 1,
  unknown = 2,
  control = 3,
  user_defined = 4,
  unused = 5,
  byte = 6,
};

enum class ModelKind {
  byte_level_bpe,     // GPT-2 style: bytes mapped to visible characters, then BPE
  sentencepiece_bpe,  // LLaMA-2 style: U+2581 for spaces, <0xXX> byte fallback
};

// The Split regex in front of byte-level BPE; each is matched by hand-written code.
enum class PreTokenizer {
  none,    // the whole segment is one word (SentencePiece style)
  gpt2,    // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  llama3,  // (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|...
  qwen2,   // llama3's with \p{N} one digit at a time
};

// A token matched in the raw text before normalisation (HF "added tokens").
struct AddedToken {
  TokenId id = 0;
  std::string content;
  bool special = true;       // control token: skipped by decode(skip_special) and only parsed
                             // from text when the caller asks
  bool lstrip = false;       // the match swallows whitespace on its left
  bool rstrip = false;       // ... and on its right
  bool single_word = false;  // only matches when not inside a word
  bool normalized = false;   // matched against normalised text (treated as raw here: see loader)
};

struct VocabData {
  ModelKind model = ModelKind::byte_level_bpe;
  PreTokenizer pre = PreTokenizer::gpt2;
  bool nfc = false;                 // Qwen2's NFC normaliser
  std::vector<std::string> tokens;  // by id, as stored (byte-level tokens in mapped form)
  std::vector<TokenKind> kinds;     // by id
  // Merges "a b" in rank order. Empty for SentencePiece GGUF files, whose merge order comes
  // from the scores instead.
  std::vector<std::pair<std::string, std::string>> merges;
  std::vector<float> scores;  // by id; only used when merges is empty
  std::vector<AddedToken> added;
  bool ignore_merges = false;  // a word that is itself a token is not split (LLaMA-3)
  bool byte_fallback = false;  // unknown characters become <0xXX> tokens
  bool fuse_unk = false;       // consecutive unknowns become one <unk>
  std::optional<TokenId> unk, bos, eos, eot, pad;
  bool add_bos = false;
  bool add_eos = false;
  std::string chat_template;  // Jinja source, when the file carries one
};

}  // namespace bitnet::tok
