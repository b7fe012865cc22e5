#include <bitnet/runtime/text/unicode.hpp>
#include <bitnet/runtime/thread_pool.hpp>
#include <bitnet/runtime/tokenizer/byte_level.hpp>
#include <bitnet/runtime/tokenizer/tokenizer.hpp>

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <unordered_map>

#include "added_tokens.hpp"
#include "bpe.hpp"
#include "pretokenize.hpp"
#include "token_index.hpp"
#include "utf8_lossy.hpp"

namespace bitnet::tok {
namespace {

const std::string kSpace = "\xe2\x96\x81";  // U+2581, SentencePiece's visible space
constexpr size_t kCacheLimit = 1 << 16;     // words; cleared when full
constexpr size_t kCacheWordBytes = 64;      // longer words are rare and not cached

std::string byte_token(uint8_t b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "<0x%02X>", b);
  return buf;
}

// Lets the maps be searched with a string_view, without building a std::string per lookup.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

}  // namespace

struct Tokenizer::Impl {
  VocabData v;
  TokenIndex ids;
  BpeMerges merges;
  AddedTokenMatcher added;
  std::vector<uint8_t> special;       // by id
  std::vector<int16_t> byte_of;       // by id: the byte a <0xXX> token stands for, or -1
  std::array<TokenId, 256> byte_ids;  // byte-level: each byte's character; SentencePiece: <0xXX>
  // SentencePiece words may be cut before every U+2581 that follows another character: true
  // when no token has U+2581 after a different character, so no merge crosses such a cut.
  bool spm_cut_at_space = false;
  mutable std::mutex cache_mu;
  mutable StringMap<std::vector<TokenId>> cache;

  explicit Impl(VocabData d) : v(std::move(d)), ids(v.tokens), added(v.added) {}

  void encode_word(std::string_view word, std::vector<TokenId>& out) const;
  void bpe_word(std::string_view word, std::vector<TokenId>& out) const;
  void encode_plain(std::string_view text, std::vector<TokenId>& out) const;
  void append_bytes(TokenId id, std::string& out) const;
};

// One word through the cache, then BPE. The caller holds cache_mu.
void Tokenizer::Impl::encode_word(std::string_view word, std::vector<TokenId>& out) const {
  if (word.size() > kCacheWordBytes) return bpe_word(word, out);
  if (const auto it = cache.find(word); it != cache.end()) {
    out.insert(out.end(), it->second.begin(), it->second.end());
    return;
  }
  const size_t start = out.size();
  bpe_word(word, out);
  if (cache.size() >= kCacheLimit) cache.clear();
  cache.emplace(std::string(word), std::vector<TokenId>(out.begin() + start, out.end()));
}

void Tokenizer::Impl::bpe_word(std::string_view word, std::vector<TokenId>& out) const {
  std::vector<TokenId> syms;
  if (v.model == ModelKind::byte_level_bpe) {
    if (v.ignore_merges) {
      std::string mapped;
      for (unsigned char b : word)
        mapped += byte_to_char()[b];
      if (const TokenId id = ids.find(mapped); id >= 0) {
        out.push_back(id);
        return;
      }
    }
    for (unsigned char b : word)
      if (byte_ids[b] >= 0) syms.push_back(byte_ids[b]);
  } else {
    bool last_unk = false;
    for (size_t pos = 0; pos < word.size();) {
      const uint32_t len = text::decode_utf8(word, pos).len;
      const std::string_view ch = word.substr(pos, len);
      pos += len;
      if (const TokenId id = ids.find(ch); id >= 0) {
        syms.push_back(id);
        last_unk = false;
        continue;
      }
      bool bytes_ok = v.byte_fallback;
      for (unsigned char b : ch)
        bytes_ok = bytes_ok && byte_ids[b] >= 0;
      if (bytes_ok) {
        for (unsigned char b : ch)
          syms.push_back(byte_ids[b]);
        last_unk = false;
      } else if (v.unk && !(v.fuse_unk && last_unk)) {
        syms.push_back(*v.unk);
        last_unk = true;
      }
    }
  }
  merges.apply(syms);
  out.insert(out.end(), syms.begin(), syms.end());
}

// Plain text between added tokens: normalise, pre-tokenise, encode each word.
void Tokenizer::Impl::encode_plain(std::string_view text, std::vector<TokenId>& out) const {
  if (text.empty()) return;
  // One lock per segment rather than per word: words are short and the lock dominated.
  std::lock_guard lock(cache_mu);
  if (v.model == ModelKind::sentencepiece_bpe) {
    std::string norm = kSpace;
    norm.reserve(text.size() * 2);
    for (size_t pos = 0; pos < text.size();) {
      const size_t space = std::min(text.find(' ', pos), text.size());
      norm.append(text, pos, space - pos);
      if (space < text.size()) norm += kSpace;
      pos = space + 1;
    }
    if (!spm_cut_at_space) {
      encode_word(norm, out);
      return;
    }
    size_t begin = 0;
    for (size_t pos = kSpace.size(); pos < norm.size(); ++pos)
      if (norm.compare(pos, kSpace.size(), kSpace) == 0 &&
          norm.compare(pos - kSpace.size(), kSpace.size(), kSpace) != 0) {
        encode_word(std::string_view(norm).substr(begin, pos - begin), out);
        begin = pos;
      }
    encode_word(std::string_view(norm).substr(begin), out);
    return;
  }
  std::string normalized;
  if (v.nfc) {
    normalized = text::nfc(text);
    text = normalized;
  }
  thread_local std::vector<std::pair<size_t, size_t>> pieces;
  pieces.clear();
  pretokenize(v.pre, text, pieces);
  for (const auto& [b, e] : pieces)
    encode_word(text.substr(b, e - b), out);
}

void Tokenizer::Impl::append_bytes(TokenId id, std::string& out) const {
  const std::string& t = v.tokens[id];
  if (special[id] || v.kinds[id] == TokenKind::control || v.kinds[id] == TokenKind::user_defined) {
    out += t;
    return;
  }
  if (byte_of[id] >= 0) {
    out += static_cast<char>(byte_of[id]);
    return;
  }
  if (v.model == ModelKind::sentencepiece_bpe) {
    for (size_t pos = 0; pos < t.size();) {
      if (t.compare(pos, kSpace.size(), kSpace) == 0) {
        out += ' ';
        pos += kSpace.size();
      } else {
        out += t[pos++];
      }
    }
    return;
  }
  for (size_t pos = 0; pos < t.size();) {
    const text::Utf8Char u = text::decode_utf8(t, pos);
    if (const auto b = char_to_byte(u.cp); b && u.valid)
      out += static_cast<char>(*b);
    else
      out.append(t, pos, u.len);
    pos += u.len;
  }
}

Result<Tokenizer> Tokenizer::create(VocabData data) {
  const size_t n = data.tokens.size();
  if (n == 0) return make_error(BITNET_STATUS_INVALID_ARGUMENT, "the vocabulary is empty");
  if (data.kinds.size() != n) data.kinds.resize(n, TokenKind::normal);
  for (const auto& id : {data.unk, data.bos, data.eos, data.eot, data.pad})
    if (id && (*id < 0 || static_cast<size_t>(*id) >= n))
      return make_error(BITNET_STATUS_INVALID_ARGUMENT, "special token id " + std::to_string(*id) +
                                                            " is outside the vocabulary (" +
                                                            std::to_string(n) + " tokens)");
  for (const AddedToken& a : data.added)
    if (a.id < 0 || static_cast<size_t>(a.id) >= n)
      return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                        "added token '" + a.content + "' has id " + std::to_string(a.id) +
                            ", outside the vocabulary (" + std::to_string(n) + " tokens)");
  auto impl = std::make_unique<Impl>(std::move(data));
  VocabData& v = impl->v;
  impl->special.assign(n, 0);
  for (const AddedToken& a : v.added)
    impl->special[a.id] = a.special;
  impl->byte_of.assign(n, -1);
  impl->byte_ids.fill(-1);
  for (int b = 0; b < 256; ++b) {
    const std::string key = v.model == ModelKind::byte_level_bpe
                                ? byte_to_char()[b]
                                : byte_token(static_cast<uint8_t>(b));
    if (const TokenId id = impl->ids.find(key); id >= 0) {
      impl->byte_ids[b] = id;
      if (v.model == ModelKind::sentencepiece_bpe) impl->byte_of[id] = static_cast<int16_t>(b);
    }
  }

  auto id_of = [&](std::string_view s) { return impl->ids.find(s); };
  if (!v.merges.empty()) {
    // Resolving the merges' texts to ids is most of a large vocabulary's load time and only
    // reads the index, so it runs on all cores; the table is then filled in rank order.
    struct Ids {
      TokenId a, b, merged;
    };
    std::vector<Ids> resolved(v.merges.size());
    thread_pool::parallel_for(0, v.merges.size(), 4096, [&](size_t begin, size_t end) {
      std::string joined;
      for (size_t r = begin; r < end; ++r) {
        const auto& [a, b] = v.merges[r];
        joined.assign(a).append(b);
        resolved[r] = {id_of(a), id_of(b), id_of(joined)};
      }
    });
    impl->merges.reserve(v.merges.size());
    for (size_t r = 0; r < resolved.size(); ++r) {
      const Ids& m = resolved[r];
      if (m.a < 0 || m.b < 0 || m.merged < 0)
        return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                          "merge " + std::to_string(r) + " ('" + v.merges[r].first + " " +
                              v.merges[r].second +
                              "') names a token that is not in the vocabulary");
      impl->merges.add(m.a, m.b, m.merged, static_cast<uint32_t>(r));
    }
  } else if (v.model == ModelKind::sentencepiece_bpe) {
    // SentencePiece merges the adjacent pair whose joined piece scores highest: every split of
    // every normal token into two tokens is a merge, ranked by the joined piece's score.
    if (v.scores.size() != n)
      return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                        "a SentencePiece vocabulary without merges needs one score per token");
    std::vector<std::pair<float, TokenId>> order;
    for (size_t i = 0; i < n; ++i)
      if (v.kinds[i] == TokenKind::normal || v.kinds[i] == TokenKind::user_defined)
        order.emplace_back(-v.scores[i], static_cast<TokenId>(i));
    std::stable_sort(order.begin(), order.end());
    for (size_t r = 0; r < order.size(); ++r) {
      const std::string& t = v.tokens[order[r].second];
      for (size_t cut = 1; cut < t.size(); ++cut) {
        if ((static_cast<unsigned char>(t[cut]) & 0xc0) == 0x80) continue;
        const TokenId a = id_of(std::string_view(t).substr(0, cut));
        const TokenId b = id_of(std::string_view(t).substr(cut));
        if (a >= 0 && b >= 0) impl->merges.add(a, b, order[r].second, static_cast<uint32_t>(r));
      }
    }
  }
  if (v.model == ModelKind::sentencepiece_bpe) {
    auto joins_after_other = [](const std::string& t) {
      for (size_t at = t.find(kSpace, 1); at != std::string::npos; at = t.find(kSpace, at + 1))
        if (at < kSpace.size() || t.compare(at - kSpace.size(), kSpace.size(), kSpace) != 0)
          return true;
      return false;
    };
    impl->spm_cut_at_space = std::none_of(v.tokens.begin(), v.tokens.end(), joins_after_other);
  }
  return Tokenizer(std::move(impl));
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

std::vector<TokenId> Tokenizer::encode(std::string_view text, EncodeOptions o) const {
  const VocabData& v = impl_->v;
  std::vector<TokenId> out;
  out.reserve(text.size() / 3 + 4);
  if (o.add_special && v.add_bos && v.bos) out.push_back(*v.bos);
  for (const Segment& s : impl_->added.split(text, o.parse_special, o.special_ranges)) {
    if (s.token >= 0)
      out.push_back(s.token);
    else
      impl_->encode_plain(text.substr(s.begin, s.end - s.begin), out);
  }
  if (o.add_special && v.add_eos && v.eos) out.push_back(*v.eos);
  return out;
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool skip_special) const {
  std::string bytes;
  for (TokenId id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= size()) continue;
    if (skip_special && is_special(id)) continue;
    impl_->append_bytes(id, bytes);
  }
  if (impl_->v.model == ModelKind::sentencepiece_bpe && !bytes.empty() && bytes[0] == ' ')
    bytes.erase(0, 1);
  return utf8_lossy(bytes);
}

size_t Tokenizer::size() const {
  return impl_->v.tokens.size();
}
const VocabData& Tokenizer::vocab() const {
  return impl_->v;
}
const std::string& Tokenizer::piece(TokenId id) const {
  return impl_->v.tokens.at(static_cast<size_t>(id));
}
std::string Tokenizer::token_bytes(TokenId id) const {
  std::string out;
  if (id >= 0 && static_cast<size_t>(id) < size()) impl_->append_bytes(id, out);
  return out;
}
bool Tokenizer::is_special(TokenId id) const {
  if (id < 0 || static_cast<size_t>(id) >= size()) return false;
  return impl_->special[id] || impl_->v.kinds[id] == TokenKind::control;
}

}  // namespace bitnet::tok
