// Finds added tokens in raw text (HF's AddedVocabulary): longest match at the leftmost
// position, with lstrip/rstrip swallowing neighbouring whitespace and single_word refusing
// matches inside a word.
#pragma once

#include <bitnet/runtime/tokenizer/vocab.hpp>

#include <string_view>
#include <unordered_map>
#include <vector>

namespace bitnet::tok {

struct Segment {
  size_t begin, end;  // bytes of the text
  TokenId token;      // -1: plain text to normalise and split
};

class AddedTokenMatcher {
 public:
  explicit AddedTokenMatcher(const std::vector<AddedToken>& tokens);
  // Splits `text` into plain-text and added-token segments. Special tokens are matched only
  // when `with_special`.
  std::vector<Segment> split(std::string_view text, bool with_special) const;

 private:
  struct Node {
    std::unordered_map<unsigned char, int> children;
    int token = -1;  // index into tokens_
  };
  // The longest token starting at `pos`, as an index into tokens_, or -1.
  int longest_at(std::string_view text, size_t pos, bool with_special, size_t& len) const;
  std::vector<AddedToken> tokens_;
  std::vector<Node> nodes_;
  bool first_byte_[256] = {};
};

}  // namespace bitnet::tok
