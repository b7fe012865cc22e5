// Token text -> id, open addressing over the vocabulary's own strings: one probe reads a slot
// and the token it names, where a node-based map took three cache misses. Loading a 128k
// vocabulary with 280k merges does about a million of these lookups.
#pragma once

#include <bitnet/runtime/tokenizer/vocab.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace bitnet::tok {

class TokenIndex {
 public:
  // Indexes `tokens`, which must outlive the index; a repeated text maps to its last id.
  explicit TokenIndex(const std::vector<std::string>& tokens) : tokens_(&tokens) {
    size_t cap = 16;
    while (cap < tokens.size() * 2)
      cap *= 2;
    slots_.assign(cap, Slot{0, -1});
    mask_ = cap - 1;
    for (size_t id = 0; id < tokens.size(); ++id) {
      const size_t h = std::hash<std::string_view>{}(tokens[id]);
      for (size_t i = h & mask_;; i = (i + 1) & mask_) {
        Slot& s = slots_[i];
        if (s.id < 0 || (s.hash == static_cast<uint32_t>(h) && tokens[s.id] == tokens[id])) {
          s = {static_cast<uint32_t>(h), static_cast<TokenId>(id)};
          break;
        }
      }
    }
  }

  // The id of `text`, or -1.
  TokenId find(std::string_view text) const {
    const size_t h = std::hash<std::string_view>{}(text);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      if (s.hash == static_cast<uint32_t>(h) && (*tokens_)[s.id] == text) return s.id;
    }
  }

 private:
  struct Slot {
    uint32_t hash;
    TokenId id;
  };
  const std::vector<std::string>* tokens_;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

}  // namespace bitnet::tok
