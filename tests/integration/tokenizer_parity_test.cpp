// Parity with HuggingFace tokenizers on three real vocabularies (LLaMA-3, a 32000-entry
// SentencePiece BPE, Qwen2.5) over tests/data/tokenizer/corpus.jsonl, whose expected ids were
// made by tools/tokenizer-parity/make_expected.py. Also: the same vocabulary through GGUF
// metadata tokenizes identically, decode inverts encode, and streaming decode equals decode.
#include <bitnet/runtime/gguf/writer.hpp>
#include <bitnet/runtime/text/unicode.hpp>
#include <bitnet/runtime/tokenizer/load.hpp>
#include <bitnet/runtime/tokenizer/tokenizer.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace bitnet::tok;

namespace {

struct Case {
  std::string name, text, decoded;
  std::vector<TokenId> ids, ids_no_special;
};

std::vector<TokenId> to_ids(const json::value& v) {
  std::vector<TokenId> out;
  for (const json::value& x : v.as_array())
    out.push_back(static_cast<TokenId>(x.as_int64()));
  return out;
}

std::vector<Case> load_cases(const std::string& vocab) {
  std::ifstream corpus(fs::path(BITNET_TOKENIZER_DATA) / "corpus.jsonl");
  std::ifstream expected(fs::path(BITNET_TOKENIZER_DATA) / ("expected-" + vocab + ".jsonl"));
  BOOST_REQUIRE(corpus && expected);
  std::string line;
  std::getline(expected, line);  // header
  std::vector<Case> out;
  while (std::getline(corpus, line)) {
    const json::object c = json::parse(line).as_object();
    BOOST_REQUIRE(std::getline(expected, line));
    const json::object e = json::parse(line).as_object();
    BOOST_REQUIRE(e.at("name") == c.at("name"));
    out.push_back({std::string(c.at("name").as_string()), std::string(c.at("text").as_string()),
                   std::string(e.at("decoded").as_string()), to_ids(e.at("ids")),
                   to_ids(e.at("ids_no_special"))});
  }
  BOOST_REQUIRE_GT(out.size(), 100u);
  return out;
}

Tokenizer from_json(const std::string& vocab) {
  const fs::path path = fs::path(BITNET_VOCAB_CACHE) / vocab / "tokenizer.json";
  auto v = vocab_from_hf_file(path);
  BOOST_REQUIRE_MESSAGE(v.has_value(), (v ? "" : v.error().message));
  auto t = Tokenizer::create(std::move(*v));
  BOOST_REQUIRE_MESSAGE(t.has_value(), (t ? "" : t.error().message));
  return std::move(*t);
}

// The vocabulary written as GGUF metadata and read back, as a converted model would carry it.
Tokenizer through_gguf(const Tokenizer& t) {
  bitnet::gguf::Writer w;
  vocab_to_gguf(t.vocab(), w);
  const fs::path path = fs::temp_directory_path() / "bitnet-tokenizer-parity.gguf";
  BOOST_REQUIRE(w.write(path));
  auto r = bitnet::gguf::Reader::open(path);
  fs::remove(path);
  BOOST_REQUIRE(r.has_value());
  auto v = vocab_from_gguf(*r);
  BOOST_REQUIRE_MESSAGE(v.has_value(), (v ? "" : v.error().message));
  auto g = Tokenizer::create(std::move(*v));
  BOOST_REQUIRE_MESSAGE(g.has_value(), (g ? "" : g.error().message));
  return std::move(*g);
}

void check_vocabulary(const std::string& vocab) {
  const std::vector<Case> cases = load_cases(vocab);
  const Tokenizer t = from_json(vocab);
  const Tokenizer g = through_gguf(t);
  const bool nfc = t.vocab().nfc;
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(vocab << " case " << c.name) {
      // HF encodes special-token text as the token: parse_special on.
      const auto ids = t.encode(c.text, {.add_special = true, .parse_special = true});
      const auto plain = t.encode(c.text, {.add_special = false, .parse_special = true});
      BOOST_TEST(ids == c.ids, boost::test_tools::per_element());
      BOOST_TEST(plain == c.ids_no_special, boost::test_tools::per_element());
      BOOST_TEST(t.decode(plain) == c.decoded);
      BOOST_TEST(g.encode(c.text, {.add_special = true, .parse_special = true}) == c.ids,
                 boost::test_tools::per_element());

      // Without special parsing every text comes back exactly (NFC-composed where the
      // tokenizer normalises).
      const auto literal = t.encode(c.text, {.add_special = false});
      BOOST_TEST(t.decode(literal) == (nfc ? bitnet::text::nfc(c.text) : c.text));
      BOOST_TEST(g.encode(c.text, {.add_special = false}) == literal,
                 boost::test_tools::per_element());

      StreamDecoder stream(t, false);
      std::string streamed;
      for (TokenId id : plain)
        streamed += stream.push(id);
      streamed += stream.flush();
      BOOST_TEST(streamed == c.decoded);
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tokenizer_parity)

BOOST_AUTO_TEST_CASE(llama3) {
  check_vocabulary("llama3");
}
BOOST_AUTO_TEST_CASE(sentencepiece_32000) {
  check_vocabulary("llama2");
}
BOOST_AUTO_TEST_CASE(qwen2_5) {
  check_vocabulary("qwen2_5");
}

BOOST_AUTO_TEST_SUITE_END()
