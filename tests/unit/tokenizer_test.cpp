// Tokenizer behaviour on small hand-made vocabularies: added-token options, special-token
// parsing, byte fallback, the streaming decoder through split characters, and loader errors.
#include <bitnet/runtime/tokenizer/load.hpp>
#include <bitnet/runtime/tokenizer/tokenizer.hpp>

#include <boost/test/unit_test.hpp>

using namespace bitnet::tok;

namespace {

// A SentencePiece vocabulary: <unk> <s> </s>, the 256 byte tokens, then a few pieces whose
// merges come from their scores.
Tokenizer spm(std::vector<AddedToken> extra = {}) {
  VocabData v;
  v.model = ModelKind::sentencepiece_bpe;
  v.pre = PreTokenizer::none;
  v.byte_fallback = v.fuse_unk = true;
  v.tokens = {"<unk>", "<s>", "</s>"};
  v.kinds = {TokenKind::unknown, TokenKind::control, TokenKind::control};
  char hex[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(hex, sizeof hex, "<0x%02X>", b);
    v.tokens.push_back(hex);
    v.kinds.push_back(TokenKind::byte);
  }
  for (const char* p : {"\xe2\x96\x81", "h", "i", "\xe2\x96\x81h", "\xe2\x96\x81hi", "x"}) {
    v.tokens.push_back(p);
    v.kinds.push_back(TokenKind::normal);
  }
  v.scores.assign(v.tokens.size(), 0.0f);
  v.scores[v.tokens.size() - 3] = -1;  // ▁h
  v.scores[v.tokens.size() - 2] = -2;  // ▁hi
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  v.add_bos = true;
  v.added = {{.id = 1, .content = "<s>"}, {.id = 2, .content = "</s>"}};
  for (AddedToken& a : extra) {
    a.id = static_cast<TokenId>(v.tokens.size());
    v.tokens.push_back(a.content);
    v.kinds.push_back(a.special ? TokenKind::control : TokenKind::user_defined);
    v.scores.push_back(0);
    v.added.push_back(a);
  }
  auto t = Tokenizer::create(std::move(v));
  BOOST_REQUIRE(t.has_value());
  return std::move(*t);
}

constexpr TokenId kSp = 259, kHi = 263, kX = 264;

}  // namespace

BOOST_AUTO_TEST_SUITE(tokenizer)

BOOST_AUTO_TEST_CASE(sentencepiece_merges_bytes_and_bos) {
  const Tokenizer t = spm();
  BOOST_TEST(t.encode("hi") == (std::vector<TokenId>{1, kHi}), boost::test_tools::per_element());
  BOOST_TEST(t.encode("hi", {.add_special = false}) == (std::vector<TokenId>{kHi}),
             boost::test_tools::per_element());
  // 'é' is not a piece: its two UTF-8 bytes become <0xC3> <0xA9>.
  BOOST_TEST(t.encode("\xc3\xa9", {.add_special = false}) ==
                 (std::vector<TokenId>{kSp, 3 + 0xc3, 3 + 0xa9}),
             boost::test_tools::per_element());
  // As HF: only the space that starts the decoded text is dropped, not the one after <s>.
  BOOST_TEST(t.decode(t.encode("hi x\xc3\xa9")) == "<s> hi x\xc3\xa9");
  BOOST_TEST(t.decode(t.encode("hi x\xc3\xa9"), true) == "hi x\xc3\xa9");
}

BOOST_AUTO_TEST_CASE(special_text_is_plain_unless_asked) {
  const Tokenizer t = spm();
  const auto plain = t.encode("<s>", {.add_special = false});
  BOOST_TEST(plain.size() > 1u);  // '<', 's', '>' as bytes: never the control token
  BOOST_TEST(t.decode(plain) == "<s>");
  BOOST_TEST(
      t.encode("<s>", {.add_special = false, .parse_special = true}) == (std::vector<TokenId>{1}),
      boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(special_tokens_only_inside_the_given_ranges) {
  const Tokenizer t = spm();
  // "<s>hi</s><s>": the first <s> and the last are inside ranges, "</s>" straddles none.
  const std::string text = "<s>hi</s><s>";
  const std::vector<ByteRange> ranges = {{0, 3}, {5, 8}, {9, 12}};
  const auto ids =
      t.encode(text, {.add_special = false, .parse_special = true, .special_ranges = ranges});
  BOOST_TEST(ids.front() == 1);
  BOOST_TEST(ids.back() == 1);
  BOOST_TEST(std::count(ids.begin(), ids.end(), 1) == 2);
  BOOST_TEST(std::count(ids.begin(), ids.end(), 2) == 0);  // "</s>" spans 5..9: not inside
}

BOOST_AUTO_TEST_CASE(added_token_options) {
  const Tokenizer strip =
      spm({{.content = "[X]", .special = false, .lstrip = true, .rstrip = true}});
  const TokenId x = 265;
  // lstrip/rstrip swallow the spaces around the token.
  BOOST_TEST(
      strip.encode("hi  [X]  hi", {.add_special = false}) == (std::vector<TokenId>{kHi, x, kHi}),
      boost::test_tools::per_element());
  const Tokenizer word = spm({{.content = "[W]", .special = false, .single_word = true}});
  const TokenId w = 265;
  BOOST_TEST(word.encode("[W] hi", {.add_special = false}).front() == w);
  // Right after a word character it is not a match: the text stays plain.
  const auto inside = word.encode("hi[W]", {.add_special = false});
  BOOST_TEST(std::count(inside.begin(), inside.end(), w) == 0);
  BOOST_TEST(word.decode(inside) == "hi[W]");
}

BOOST_AUTO_TEST_CASE(stream_decoder_holds_split_characters) {
  const Tokenizer t = spm();
  // '€' (E2 82 AC) and an emoji (F0 9F 98 80) through byte tokens, one at a time.
  const std::string text = "hi \xe2\x82\xac\xf0\x9f\x98\x80 hi";
  const auto ids = t.encode(text, {.add_special = false});
  StreamDecoder d(t);
  std::string out;
  std::vector<std::string> chunks;
  for (TokenId id : ids) {
    chunks.push_back(d.push(id));
    out += chunks.back();
  }
  out += d.flush();
  BOOST_TEST(out == text);
  // Every chunk starts on a character boundary of the text, so none splits a character.
  size_t pos = 0;
  for (const std::string& c : chunks) {
    if (pos < text.size()) BOOST_TEST((static_cast<unsigned char>(text[pos]) & 0xc0) != 0x80);
    pos += c.size();
  }
  // A character cut off at the end becomes one U+FFFD on flush.
  StreamDecoder cut(t);
  BOOST_TEST(cut.push(3 + 0xe2).empty());
  BOOST_TEST(cut.push(3 + 0x82).empty());
  BOOST_TEST(cut.flush() == "\xef\xbf\xbd");
}

BOOST_AUTO_TEST_CASE(bad_tokenizer_json_is_a_clear_error) {
  auto err = [](std::string_view json) {
    auto v = vocab_from_hf_json(json, "", "t.json");
    BOOST_REQUIRE(!v.has_value());
    return v.error().message;
  };
  BOOST_TEST(err("{").find("not valid JSON") != std::string::npos);
  BOOST_TEST(err(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                     "added_tokens": [{"id": 1, "content": 7}]})")
                 .find("a string content") != std::string::npos);
  BOOST_TEST(err(R"({"model": {"type": "Unigram"}})").find("'Unigram' is not supported") !=
             std::string::npos);
  const std::string missing_merge =
      R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a c"]},
          "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}})";
  auto v = vocab_from_hf_json(missing_merge, "", "t.json");
  BOOST_REQUIRE(v.has_value());
  auto t = Tokenizer::create(std::move(*v));
  BOOST_REQUIRE(!t.has_value());
  BOOST_TEST(
      t.error().message.find("merge 0 ('a c') names a token that is not in the vocabulary") !=
      std::string::npos);
  BOOST_TEST(err(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 2}, "merges": []},
                     "pre_tokenizer": {"type": "ByteLevel"}})")
                 .find("gaps") != std::string::npos);
  BOOST_TEST(err(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                     "normalizer": {"type": "Lowercase"}, "pre_tokenizer": {"type": "ByteLevel"}})")
                 .find("normalizer 'Lowercase' is not supported") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
