#include "pretokenize.hpp"

#include <bitnet/runtime/text/unicode.hpp>

namespace bitnet::tok {
namespace {

struct Char {
  char32_t cp;
  uint8_t flags;
  size_t offset;  // byte offset in the text
};

bool letter(const Char& c) {
  return c.flags & text::kLetter;
}
bool number(const Char& c) {
  return c.flags & text::kNumber;
}
bool space(const Char& c) {
  return c.flags & text::kWhitespace;
}
bool newline(const Char& c) {
  return c.cp == '\r' || c.cp == '\n';
}
// [^\s\p{L}\p{N}]
bool other(const Char& c) {
  return !(c.flags & (text::kLetter | text::kNumber | text::kWhitespace));
}

char32_t lower_ascii(char32_t c) {
  return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

// 's|'t|'re|'ve|'m|'ll|'d at i; returns the length matched or 0.
size_t contraction(const std::vector<Char>& c, size_t i, bool ignore_case) {
  const size_t n = c.size();
  if (c[i].cp != '\'' || i + 1 >= n) return 0;
  auto at = [&](size_t k) { return ignore_case ? lower_ascii(c[k].cp) : c[k].cp; };
  const char32_t a = at(i + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (i + 2 >= n) return 0;
  const char32_t b = at(i + 2);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// The three whitespace alternatives shared by all patterns, at a whitespace character i:
// (llama3 only) \s*[\r\n]+, then \s+(?!\S), then \s+.
size_t whitespace(const std::vector<Char>& c, size_t i, bool newline_rule) {
  size_t k = i;
  while (k < c.size() && space(c[k]))
    ++k;
  if (newline_rule) {
    for (size_t p = k; p > i; --p)
      if (newline(c[p - 1])) return p - i;
  }
  if (k == c.size() || k - i == 1) return k - i;
  return k - i - 1;  // leave the last space to the word that follows
}

size_t match_gpt2(const std::vector<Char>& c, size_t i) {
  const size_t n = c.size();
  if (size_t m = contraction(c, i, false)) return m;
  const size_t j = i + (c[i].cp == ' ' && i + 1 < n ? 1 : 0);
  for (auto cls : {letter, number, other}) {
    if (!cls(c[j])) continue;
    size_t k = j;
    while (k < n && cls(c[k]))
      ++k;
    return k - i;
  }
  return whitespace(c, i, false);
}

size_t match_llama3(const std::vector<Char>& c, size_t i, size_t max_digits) {
  const size_t n = c.size();
  if (size_t m = contraction(c, i, true)) return m;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  size_t j = i;
  if (!letter(c[j]) && !newline(c[j]) && !number(c[j]) && j + 1 < n && letter(c[j + 1])) ++j;
  if (letter(c[j])) {
    while (j < n && letter(c[j]))
      ++j;
    return j - i;
  }
  // \p{N}{1,max_digits}
  if (number(c[i])) {
    size_t k = i;
    while (k < n && k - i < max_digits && number(c[k]))
      ++k;
    return k - i;
  }
  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
  j = i + (c[i].cp == ' ' && i + 1 < n ? 1 : 0);
  if (other(c[j])) {
    while (j < n && other(c[j]))
      ++j;
    while (j < n && newline(c[j]))
      ++j;
    return j - i;
  }
  return whitespace(c, i, true);
}

}  // namespace

void pretokenize(PreTokenizer kind, std::string_view text,
                 std::vector<std::pair<size_t, size_t>>& out) {
  if (text.empty()) return;
  if (kind == PreTokenizer::none) {
    out.emplace_back(0, text.size());
    return;
  }
  thread_local std::vector<Char> chars;
  chars.clear();
  for (size_t pos = 0; pos < text.size();) {
    const text::Utf8Char u = text::decode_utf8(text, pos);
    chars.push_back({u.cp, u.valid ? text::cp_flags(u.cp) : uint8_t{0}, pos});
    pos += u.len;
  }
  for (size_t i = 0; i < chars.size();) {
    // Every character is a letter, a number, whitespace or "other", and each class has a
    // rule, so m >= 1.
    const size_t m = kind == PreTokenizer::gpt2     ? match_gpt2(chars, i)
                     : kind == PreTokenizer::llama3 ? match_llama3(chars, i, 3)
                                                    : match_llama3(chars, i, 1);
    const size_t end = i + m < chars.size() ? chars[i + m].offset : text.size();
    out.emplace_back(chars[i].offset, end);
    i += m;
  }
}

}  // namespace bitnet::tok
