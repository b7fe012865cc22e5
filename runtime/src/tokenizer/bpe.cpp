#include "bpe.hpp"

#include <algorithm>
#include <queue>

namespace bitnet::tok {

void BpeMerges::reserve(size_t n) {
  size_t cap = 16;
  while (cap < n * 2)
    cap *= 2;
  if (cap <= slots_.size()) return;
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(cap, Slot{});
  mask_ = cap - 1;
  size_ = 0;
  for (const Slot& s : old)
    if (s.merge.rank != kEmpty)
      add(static_cast<TokenId>(s.key >> 32), static_cast<TokenId>(s.key & 0xffffffff),
          s.merge.merged, s.merge.rank);
}

void BpeMerges::add(TokenId a, TokenId b, TokenId merged, uint32_t rank) {
  if ((size_ + 1) * 2 > slots_.size()) reserve(size_ + 1);
  const uint64_t k = key(a, b);
  for (size_t i = hash(k) & mask_;; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.merge.rank == kEmpty) {
      s = {k, {rank, merged}};
      ++size_;
      return;
    }
    if (s.key == k) return;
  }
}

void BpeMerges::apply(std::vector<TokenId>& ids) const {
  const int n = static_cast<int>(ids.size());
  if (n < 2) return;
  struct Candidate {
    uint32_t rank;
    int pos;
    TokenId left, right, merged;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  thread_local std::vector<int> prev, next;
  prev.resize(n);
  next.resize(n);
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
  auto consider = [&](int l, int r) {
    if (const Merge* m = find(ids[l], ids[r])) heap.push({m->rank, l, ids[l], ids[r], m->merged});
  };
  for (int i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  for (int i = 0; i + 1 < n; ++i)
    consider(i, i + 1);
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    // Stale when either side has merged since: a position's id only ever grows into a longer
    // token, so equal ids mean the same two symbols.
    const int r = next[c.pos];
    if (ids[c.pos] != c.left || r < 0 || ids[r] != c.right) continue;
    ids[c.pos] = c.merged;
    ids[r] = -1;
    next[c.pos] = next[r];
    if (next[r] >= 0) prev[next[r]] = c.pos;
    if (prev[c.pos] >= 0) consider(prev[c.pos], c.pos);
    if (next[c.pos] >= 0) consider(c.pos, next[c.pos]);
  }
  std::erase(ids, -1);
}

}  // namespace bitnet::tok
