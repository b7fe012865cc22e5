// Byte-pair merging over token ids: the pair of lowest rank merges first, the leftmost of equal
// ranks first (HF tokenizers' order), in O(n log n) with a heap so that long words stay cheap.
#pragma once

#include <bitnet/runtime/tokenizer/vocab.hpp>

#include <unordered_map>
#include <vector>

namespace bitnet::tok {

class BpeMerges {
 public:
  struct Merge {
    uint32_t rank;
    TokenId merged;
  };
  // Keeps the first (lowest-rank) merge of a pair.
  void add(TokenId a, TokenId b, TokenId merged, uint32_t rank);
  const Merge* find(TokenId a, TokenId b) const {
    const auto it = map_.find(key(a, b));
    return it == map_.end() ? nullptr : &it->second;
  }
  size_t size() const { return map_.size(); }
  // Merges the symbols of one word in place.
  void apply(std::vector<TokenId>& ids) const;

 private:
  static uint64_t key(TokenId a, TokenId b) {
    return uint64_t{static_cast<uint32_t>(a)} << 32 | static_cast<uint32_t>(b);
  }
  std::unordered_map<uint64_t, Merge> map_;
};

}  // namespace bitnet::tok
