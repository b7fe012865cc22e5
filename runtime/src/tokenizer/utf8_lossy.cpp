#include "utf8_lossy.hpp"

namespace bitnet::tok {

size_t utf8_char_len(std::string_view s, size_t pos, size_t& prefix, bool& truncated) {
  const auto b = static_cast<unsigned char>(s[pos]);
  prefix = 1;
  truncated = false;
  if (b < 0x80) return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xbf;  // range of the second byte (Unicode table 3-7)
  if (b >= 0xc2 && b <= 0xdf) {
    need = 2;
  } else if (b >= 0xe0 && b <= 0xef) {
    need = 3;
    if (b == 0xe0) lo = 0xa0;
    if (b == 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    need = 4;
    if (b == 0xf0) lo = 0x90;
    if (b == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  for (size_t i = 1; i < need; ++i) {
    if (pos + i >= s.size()) {
      truncated = true;
      return 0;
    }
    const auto c = static_cast<unsigned char>(s[pos + i]);
    if (c < (i == 1 ? lo : 0x80) || c > (i == 1 ? hi : 0xbf)) return 0;
    prefix = i + 1;
  }
  return need;
}

std::string utf8_lossy(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) {
    size_t prefix;
    bool truncated;
    if (const size_t len = utf8_char_len(s, pos, prefix, truncated)) {
      out.append(s, pos, len);
      pos += len;
    } else {
      out += "\xef\xbf\xbd";
      pos += prefix;
    }
  }
  return out;
}

}  // namespace bitnet::tok
