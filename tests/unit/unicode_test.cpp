// Category flags, strict UTF-8 and NFC. Expectations were checked against Python's unicodedata;
// the characters are old enough that no Unicode version since 6.0 disagrees.
#include <bitnet/runtime/text/unicode.hpp>

#include <boost/test/unit_test.hpp>

#include <string>

using namespace bitnet::text;

namespace {

std::string utf8(char32_t cp) {
  std::string s;
  append_utf8(s, cp);
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(unicode)

BOOST_AUTO_TEST_CASE(flags_of_samples) {
  // e-acute, sharp s, CJK, Arabic beh, Thai ko kai, math bold A, fullwidth A, CJK ext. B.
  for (char32_t cp : {U'a', U'Z', U'\u00E9', U'\u00DF', U'\u4E2D', U'\u0628', U'\u0E01',
                      U'\U0001D400', U'\uFF21', U'\U00020000'}) {
    BOOST_TEST(cp_flags(cp) == kLetter, "U+" << std::hex << uint32_t(cp));
  }
  // Arabic-indic three (Nd), one half (No), roman numeral twelve (Nl).
  for (char32_t cp : {U'0', U'9', U'\u0663', U'\u00BD', U'\u216B'}) {
    BOOST_TEST(cp_flags(cp) == kNumber, "U+" << std::hex << uint32_t(cp));
  }
  for (char32_t cp :
       {U'\t', U'\n', U'\v', U'\f', U'\r', U' ', U'\u0085', U'\u00A0', U'\u1680', U'\u2000',
        U'\u200A', U'\u2028', U'\u2029', U'\u202F', U'\u205F', U'\u3000'}) {
    BOOST_TEST(cp_flags(cp) == kWhitespace, "U+" << std::hex << uint32_t(cp));
  }
  // 0x1C is a space to Python's isspace but not White_Space; U+0E34 is a Thai vowel sign (Mn);
  // U+200B zero width space is Cf; then an emoji, private use, and past the last code point.
  for (char32_t cp : {U'!', U'_', U'\x1C', U'\x7F', U'\u0E34', U'\u200B', U'\U0001F600', U'\uE000',
                      U'\U0010FFFF', char32_t{0x110000}, char32_t{0xFFFFFFFF}}) {
    BOOST_TEST(cp_flags(cp) == 0, "U+" << std::hex << uint32_t(cp));
  }
  BOOST_TEST(is_letter(0xE9));
  BOOST_TEST(!is_letter(0x0E34));  // Thai vowel sign: Mn, matched by neither \p{L} nor \p{N}
  BOOST_TEST(is_number(0x216B));
  BOOST_TEST(is_whitespace(0x3000));
  BOOST_TEST(!is_whitespace(0x200B));
  BOOST_TEST(!unicode_version().empty());
}

BOOST_AUTO_TEST_CASE(utf8_round_trips_every_scalar_value) {
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp < 0xE000) continue;
    const std::string s = "x" + utf8(cp);
    const Utf8Char c = decode_utf8(s, 1);
    const uint32_t len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    BOOST_TEST_REQUIRE((c.valid && c.cp == cp && c.len == len && s.size() == 1 + len),
                       "U+" << std::hex << uint32_t(cp));
  }
  BOOST_TEST(utf8(0xD800) == "\xEF\xBF\xBD");
  BOOST_TEST(utf8(0x110000) == "\xEF\xBF\xBD");
}

BOOST_AUTO_TEST_CASE(utf8_rejects_malformed_sequences) {
  const char* bad[] = {
      // Stray continuation bytes and overlong forms.
      "\x80", "\xBF", "\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xE0\x9F\xBF", "\xF0\x8F\xBF\xBF",
      // Surrogates, past U+10FFFF, and bytes that never occur.
      "\xED\xA0\x80", "\xED\xBF\xBF", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80",
      "\xF8\x88\x80\x80\x80", "\xFF",
      // Truncated: at the end, or followed by something that is not a continuation byte.
      "\xC3", "\xE4\xB8", "\xF0\x9F\x98", "\xE4\xB8\x41", "\xC3("};
  for (const char* s : bad) {
    const Utf8Char c = decode_utf8(s, 0);
    BOOST_TEST((!c.valid && c.cp == 0xFFFD && c.len == 1), "input " << s);
  }
  const struct {
    const char* s;
    char32_t cp;
  } edges[] = {{"\xC2\x80", 0x80},
               {"\xDF\xBF", 0x7FF},
               {"\xE0\xA0\x80", 0x800},
               {"\xED\x9F\xBF", 0xD7FF},
               {"\xEE\x80\x80", 0xE000},
               {"\xEF\xBF\xBF", 0xFFFF},
               {"\xF0\x90\x80\x80", 0x10000},
               {"\xF4\x8F\xBF\xBF", 0x10FFFF}};
  for (const auto& e : edges)
    BOOST_TEST((decode_utf8(e.s, 0).valid && decode_utf8(e.s, 0).cp == e.cp));
}

BOOST_AUTO_TEST_CASE(nfc_composes_reorders_and_excludes) {
  const struct {
    const char* in;
    const char* out;
  } cases[] = {
      {"e\u0301", "\u00E9"},
      {"\u212B", "\u00C5"},              // singleton: Angstrom sign becomes A-ring
      {"\u2126", "\u03A9"},              // singleton: Ohm sign becomes Omega
      {"\u1100\u1161\u11A8", "\uAC01"},  // Hangul L V T
      {"\uAC00\u11A8", "\uAC01"},        // Hangul LV T
      {"\u1161\u11A8", "\u1161\u11A8"},  // V T without L: nothing to compose
      {"a\u0323\u0302", "\u1EAD"},
      {"a\u0302\u0323", "\u1EAD"},         // dot below (220) sorts before circumflex (230)
      {"q\u0307\u0323", "q\u0323\u0307"},  // reordered, nothing composes with q
      {"\u1E0B\u0323", "\u1E0D\u0307"},
      {"\u00C5\u0323", "\u1EA0\u030A"},
      {"a\u0301\u0301", "\u00E1\u0301"},  // the second acute is blocked by the first
      {"\u0958", "\u0915\u093C"},         // composition exclusion stays decomposed
      {"\u0915\u093C", "\u0915\u093C"},
      {"\u0344", "\u0308\u0301"},  // non-starter decomposition
      {"\u09C7\u09BE", "\u09CB"},  // two starters compose
      {"\u0301e", "\u0301e"},      // leading non-starter has nothing to join
      // Invalid bytes are kept and block composition across them.
      {"e\xFF\u0301", "e\xFF\u0301"},
      {"e\u0301\xFF", "\u00E9\xFF"},
      {"abc\xE4\xB8", "abc\xE4\xB8"},
      {"\xED\xA0\x80\u0301", "\xED\xA0\x80\u0301"},
      {"Hello, \u4E16\u754C \u2014 na\u00EFve caf\u00E9",
       "Hello, \u4E16\u754C \u2014 na\u00EFve caf\u00E9"},
      {"caf\u00E9 cafe\u0301 \uD55C\uAD6D\uC5B4", "caf\u00E9 caf\u00E9 \uD55C\uAD6D\uC5B4"},
      {"", ""},
  };
  for (const auto& c : cases)
    BOOST_TEST(nfc(c.in) == c.out, "input " << c.in);
}

BOOST_AUTO_TEST_CASE(nfc_is_idempotent_on_every_code_point) {
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp < 0xE000) continue;
    const std::string once = nfc(utf8(cp));
    BOOST_TEST_REQUIRE(nfc(once) == once, "U+" << std::hex << uint32_t(cp));
  }
}

BOOST_AUTO_TEST_SUITE_END()
