#include "added_tokens.hpp"

#include <bitnet/runtime/text/unicode.hpp>

namespace bitnet::tok {
namespace {

// HF's \w for single_word: letters, numbers and the underscore.
bool word_char_before(std::string_view text, size_t pos) {
  if (pos == 0) return false;
  size_t start = pos - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xc0) == 0x80)
    --start;
  const text::Utf8Char u = text::decode_utf8(text, start);
  return u.cp == '_' || (u.valid && (text::cp_flags(u.cp) & (text::kLetter | text::kNumber)));
}

bool word_char_at(std::string_view text, size_t pos) {
  if (pos >= text.size()) return false;
  const text::Utf8Char u = text::decode_utf8(text, pos);
  return u.cp == '_' || (u.valid && (text::cp_flags(u.cp) & (text::kLetter | text::kNumber)));
}

bool space_at(std::string_view text, size_t pos) {
  const text::Utf8Char u = text::decode_utf8(text, pos);
  return u.valid && text::is_whitespace(u.cp);
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(const std::vector<AddedToken>& tokens) : tokens_(tokens) {
  nodes_.emplace_back();
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const std::string& s = tokens_[i].content;
    if (s.empty()) continue;
    first_byte_[static_cast<unsigned char>(s[0])] = true;
    int node = 0;
    for (unsigned char c : s) {
      auto it = nodes_[node].children.find(c);
      if (it == nodes_[node].children.end()) {
        nodes_.emplace_back();
        it = nodes_[node].children.emplace(c, static_cast<int>(nodes_.size() - 1)).first;
      }
      node = it->second;
    }
    if (nodes_[node].token < 0) nodes_[node].token = static_cast<int>(i);
  }
}

int AddedTokenMatcher::longest_at(std::string_view text, size_t pos, size_t special_end,
                                  size_t& len) const {
  int best = -1, node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto it = nodes_[node].children.find(static_cast<unsigned char>(text[i]));
    if (it == nodes_[node].children.end()) break;
    node = it->second;
    const int t = nodes_[node].token;
    if (t < 0 || (tokens_[t].special && i >= special_end)) continue;
    if (tokens_[t].single_word && (word_char_before(text, pos) || word_char_at(text, i + 1)))
      continue;
    best = t;
    len = i + 1 - pos;
  }
  return best;
}

std::vector<Segment> AddedTokenMatcher::split(std::string_view text, bool with_special,
                                              std::span<const ByteRange> special_ranges) const {
  std::vector<Segment> out;
  size_t plain = 0;  // start of the plain text not yet emitted
  auto range = special_ranges.begin();
  for (size_t pos = 0; pos < text.size();) {
    while (range != special_ranges.end() && range->end <= pos)
      ++range;
    // Where a special token starting here must end: nowhere, the text's end, or its range's.
    size_t special_end = 0;
    if (with_special && special_ranges.empty())
      special_end = text.size();
    else if (with_special && range != special_ranges.end() && range->begin <= pos)
      special_end = range->end;
    size_t len = 0;
    const int t = first_byte_[static_cast<unsigned char>(text[pos])]
                      ? longest_at(text, pos, special_end, len)
                      : -1;
    if (t < 0) {
      ++pos;
      continue;
    }
    size_t begin = pos, end = pos + len;
    if (tokens_[t].lstrip)
      while (begin > plain) {
        size_t prev = begin - 1;
        while (prev > plain && (static_cast<unsigned char>(text[prev]) & 0xc0) == 0x80)
          --prev;
        if (!space_at(text, prev)) break;
        begin = prev;
      }
    if (tokens_[t].rstrip)
      while (end < text.size() && space_at(text, end))
        end += text::decode_utf8(text, end).len;
    if (begin > plain) out.push_back({plain, begin, -1});
    out.push_back({begin, end, tokens_[t].id});
    plain = pos = end;
  }
  if (plain < text.size()) out.push_back({plain, text.size(), -1});
  return out;
}

}  // namespace bitnet::tok
