// Text <-> token ids with the behaviour of HuggingFace tokenizers: added tokens split out
// first, then normalisation, pre-tokenisation and BPE. Thread-safe for concurrent encodes.
#pragma once

#include <bitnet/runtime/error.hpp>
#include <bitnet/runtime/tokenizer/vocab.hpp>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bitnet::tok {

// Bytes [begin, end) of a text.
struct ByteRange {
  size_t begin, end;
};

struct EncodeOptions {
  bool add_special = true;     // BOS/EOS as the tokenizer's post-processor says
  bool parse_special = false;  // special-token text in the input becomes that token
  // With parse_special, special tokens are recognised only when they lie wholly inside one of
  // these ranges (sorted, disjoint): a chat template's own markup, so that message text cannot
  // forge control tokens. Empty: anywhere.
  std::span<const ByteRange> special_ranges = {};
};

class Tokenizer {
 public:
  static Result<Tokenizer> create(VocabData data);
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  std::vector<TokenId> encode(std::string_view text, EncodeOptions options = {}) const;
  // The text of `ids`; special tokens are left out when `skip_special`.
  std::string decode(std::span<const TokenId> ids, bool skip_special = false) const;

  size_t size() const;
  const VocabData& vocab() const;
  // The token as stored in the vocabulary (byte-level tokens in their mapped form).
  const std::string& piece(TokenId id) const;
  // The bytes the token stands for, as decode would give them in the middle of a text.
  std::string token_bytes(TokenId id) const;
  bool is_special(TokenId id) const;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Turns tokens into text as they are generated: never emits part of a UTF-8 character, and
// applies the decoder's start-of-text rule (SentencePiece drops the first space) once.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special = true);
  // Text complete so far; bytes of an unfinished character are held back.
  std::string push(TokenId id);
  // What is held back, with each incomplete character as U+FFFD.
  std::string flush();

 private:
  const Tokenizer* tokenizer_;
  bool skip_special_;
  bool first_ = true;
  std::string pending_;
};

}  // namespace bitnet::tok
