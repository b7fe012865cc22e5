// Finds added tokens in raw text (HF's AddedVocabulary): longest match at the leftmost
// position, with lstrip/rstrip swallowing neighbouring whitespace and single_word refusing
// matches inside a word.
#pragma once

#include <bitnet/runtime/tokenizer/tokenizer.hpp>
#include <bitnet/runtime/tokenizer/vocab.hpp>

#include <span>
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
  // when `with_special`, and then only inside `special_ranges` unless it is empty.
  std::vector<Segment> split(std::string_view text, bool with_special,
                             std::span<const ByteRange> special_ranges = {}) const;

 private:
  struct Node {
    std::unordered_map<unsigned char, int> children;
    int token = -1;  // index into tokens_
  };
  // The longest token starting at `pos`, as an index into tokens_, or -1.
  // `special_end`: special tokens may end no later than this byte.
  int longest_at(std::string_view text, size_t pos, size_t special_end, size_t& len) const;
  std::vector<AddedToken> tokens_;
  std::vector<Node> nodes_;
  bool first_byte_[256] = {};
};

}  // namespace bitnet::tok
