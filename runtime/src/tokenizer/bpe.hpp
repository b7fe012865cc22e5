// Byte-pair merging over token ids: the pair of lowest rank merges first, the leftmost of equal
// ranks first (HF tokenizers' order), in O(n log n) with a heap so that long words stay cheap.
#pragma once

#include <bitnet/runtime/tokenizer/vocab.hpp>

#include <cstdint>
#include <vector>

namespace bitnet::tok {

class BpeMerges {
 public:
  struct Merge {
    uint32_t rank;
    TokenId merged;
  };
  // Sizes the table for `n` merges; add() beyond that grows it.
  void reserve(size_t n);
  // Keeps the first (lowest-rank) merge of a pair.
  void add(TokenId a, TokenId b, TokenId merged, uint32_t rank);
  const Merge* find(TokenId a, TokenId b) const {
    if (slots_.empty()) return nullptr;
    const uint64_t k = key(a, b);
    for (size_t i = hash(k) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.merge.rank == kEmpty) return nullptr;
      if (s.key == k) return &s.merge;
    }
  }
  size_t size() const { return size_; }
  // Merges the symbols of one word in place.
  void apply(std::vector<TokenId>& ids) const;

 private:
  static uint64_t key(TokenId a, TokenId b) {
    return uint64_t{static_cast<uint32_t>(a)} << 32 | static_cast<uint32_t>(b);
  }
  // Open addressing with linear probing: merges are looked up for every adjacent pair of
  // every new word, and a node-based map spent most of the encode time chasing pointers.
  static constexpr uint32_t kEmpty = UINT32_MAX;
  struct Slot {
    uint64_t key;
    Merge merge{kEmpty, 0};
  };
  static size_t hash(uint64_t k) { return static_cast<size_t>((k * 0x9E3779B97F4A7C15ull) >> 20); }
  std::vector<Slot> slots_;
  size_t mask_ = 0, size_ = 0;
};

}  // namespace bitnet::tok
