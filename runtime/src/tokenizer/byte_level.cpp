#include <bitnet/runtime/text/unicode.hpp>
#include <bitnet/runtime/tokenizer/byte_level.hpp>

namespace bitnet::tok {
namespace {

struct Tables {
  std::array<std::string, 256> to_char;
  std::array<int16_t, 324> from_cp;  // mapped code points stay below U+0144
  Tables() {
    from_cp.fill(-1);
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
      const int cp = printable ? b : next++;
      text::append_utf8(to_char[b], static_cast<char32_t>(cp));
      from_cp[cp] = static_cast<int16_t>(b);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

const std::array<std::string, 256>& byte_to_char() {
  return tables().to_char;
}

std::optional<uint8_t> char_to_byte(char32_t cp) {
  if (cp >= tables().from_cp.size() || tables().from_cp[cp] < 0) return std::nullopt;
  return static_cast<uint8_t>(tables().from_cp[cp]);
}

}  // namespace bitnet::tok
