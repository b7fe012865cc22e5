#include <bitnet/runtime/text/unicode.hpp>

#include <algorithm>
#include <vector>

namespace bitnet::text {

namespace {

using namespace detail;

constexpr uint16_t kQcNo = 0x100, kQcMaybe = 0x200, kDecomposes = 0x400;
// Hangul syllables are L V (T) jamo sequences, composed and decomposed arithmetically (Unicode
// 3.12) rather than through the tables.
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28, kSCount = 11172;
// Invalid input bytes travel through the code point buffer as kRawByte + byte: past U+10FFFF, so
// they have combining class 0, decompose to nothing else and compose with nothing.
constexpr char32_t kRawByte = 0x110000;

uint16_t norm_props(char32_t cp) {
  if (cp >= kNormEnd) return 0;
  return kNormStage2[(kNormStage1[cp >> kNormShift] << kNormShift) |
                     (cp & ((1u << kNormShift) - 1))];
}
uint8_t ccc(char32_t cp) {
  return norm_props(cp) & 0xFF;
}

const char32_t* decomposition_row(char32_t cp) {
  const auto* end = kDecompositions + kDecompositionCount;
  const auto* row = std::lower_bound(kDecompositions, end, cp,
                                     [](const char32_t(&r)[3], char32_t c) { return r[0] < c; });
  return row != end && (*row)[0] == cp ? *row : nullptr;
}

void decompose(char32_t cp, std::vector<char32_t>& out) {
  if (cp - kSBase < kSCount) {
    const char32_t s = cp - kSBase, t = s % kTCount;
    out.push_back(kLBase + s / (kVCount * kTCount));
    out.push_back(kVBase + s % (kVCount * kTCount) / kTCount);
    if (t) out.push_back(kTBase + t);
    return;
  }
  const char32_t* row = norm_props(cp) & kDecomposes ? decomposition_row(cp) : nullptr;
  if (!row) {
    out.push_back(cp);
    return;
  }
  decompose(row[1], out);
  if (row[2]) decompose(row[2], out);
}

// The primary composite of a + b, or 0.
char32_t compose(char32_t a, char32_t b) {
  if (a - kLBase < kLCount && b - kVBase < kVCount)
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  if (a - kSBase < kSCount && (a - kSBase) % kTCount == 0 && b - kTBase - 1 < kTCount - 1)
    return a + (b - kTBase);
  const uint16_t* end = kCompositions + kCompositionCount;
  const uint16_t* it = std::partition_point(kCompositions, end, [&](uint16_t i) {
    const char32_t* r = kDecompositions[i];
    return r[1] < a || (r[1] == a && r[2] < b);
  });
  if (it == end || kDecompositions[*it][1] != a || kDecompositions[*it][2] != b) return 0;
  return kDecompositions[*it][0];
}

// UAX #15 quick check. Returns npos when s is already NFC; otherwise the offset of the last
// character before the first problem that starts a fresh composition: a starter with NFC_QC=Yes
// never combines with what precedes it (the generator checks this), so text before it is final.
size_t quick_check(std::string_view s) {
  size_t restart = 0;
  uint8_t last_ccc = 0;
  for (size_t i = 0; i < s.size();) {
    // Nothing below U+0300 has a nonzero class or NFC_QC other than Yes, and every byte of such a
    // character (lead or continuation) is below 0xCC, the lead byte of U+0300. Stray bytes there
    // are invalid and stay as they are, so they need no work either.
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0xCC) {
      if ((b & 0xC0) != 0x80) restart = i;
      last_ccc = 0;
      ++i;
      continue;
    }
    const Utf8Char c = decode_utf8(s, i);
    const uint16_t props = c.valid ? norm_props(c.cp) : 0;
    const uint8_t cc = props & 0xFF;
    if (props & (kQcNo | kQcMaybe) || (cc != 0 && last_ccc > cc)) return restart;
    if (cc == 0) restart = i;
    last_ccc = cc;
    i += c.len;
  }
  return std::string_view::npos;
}

}  // namespace

void append_utf8(std::string& out, char32_t cp) {
  if (cp - 0xD800 < 0x800 || cp > 0x10FFFF) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    const char b[] = {static_cast<char>(0xC0 | cp >> 6), static_cast<char>(0x80 | (cp & 0x3F))};
    out.append(b, 2);
  } else if (cp < 0x10000) {
    const char b[] = {static_cast<char>(0xE0 | cp >> 12),
                      static_cast<char>(0x80 | (cp >> 6 & 0x3F)),
                      static_cast<char>(0x80 | (cp & 0x3F))};
    out.append(b, 3);
  } else {
    const char b[] = {
        static_cast<char>(0xF0 | cp >> 18), static_cast<char>(0x80 | (cp >> 12 & 0x3F)),
        static_cast<char>(0x80 | (cp >> 6 & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
    out.append(b, 4);
  }
}

std::string nfc(std::string_view s) {
  const size_t start = quick_check(s);
  if (start == std::string_view::npos) return std::string(s);

  std::vector<char32_t> buf;
  buf.reserve(s.size() - start + 8);
  for (size_t i = start; i < s.size();) {
    const Utf8Char c = decode_utf8(s, i);
    if (c.valid) {
      decompose(c.cp, buf);
    } else {
      buf.push_back(kRawByte + static_cast<unsigned char>(s[i]));
    }
    i += c.len;
  }

  // Canonical ordering: a stable sort of each run of non-starters by combining class.
  for (size_t i = 0; i < buf.size();) {
    size_t j = i;
    while (j < buf.size() && ccc(buf[j]) != 0)
      ++j;
    if (j - i > 1) {
      std::stable_sort(buf.begin() + i, buf.begin() + j,
                       [](char32_t x, char32_t y) { return ccc(x) < ccc(y); });
    }
    i = j + 1;
  }

  // Canonical composition (the UAX #15 sample algorithm): a character joins the last starter
  // unless something between them has a class of 0 or at least its own.
  size_t out_len = 0, starter = 0;
  bool have_starter = false;
  int last_cc = 0;
  for (size_t i = 0; i < buf.size(); ++i) {
    const char32_t c = buf[i];
    const int cc = ccc(c);
    if (have_starter && (last_cc < cc || last_cc == 0)) {
      if (const char32_t composite = compose(buf[starter], c)) {
        buf[starter] = composite;
        continue;
      }
    }
    if (cc == 0) {
      starter = out_len;
      have_starter = true;
    }
    last_cc = cc;
    buf[out_len++] = c;
  }

  std::string out(s.substr(0, start));
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < out_len; ++i) {
    if (buf[i] >= kRawByte) {
      out += static_cast<char>(buf[i] - kRawByte);
    } else {
      append_utf8(out, buf[i]);
    }
  }
  return out;
}

}  // namespace bitnet::text
