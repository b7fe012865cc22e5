// llama.cpp's tokenizer suite: vocab-only GGUF files (LLaMA-2 SentencePiece, Phi-3, GPT-2) with
// texts and the ids the original HF tokenizers gave (no BOS, special text not parsed).
#include <bitnet/runtime/tokenizer/load.hpp>
#include <bitnet/runtime/tokenizer/tokenizer.hpp>

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace bitnet::tok;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void check_peer(const std::string& name) {
  const fs::path dir = BITNET_PEER_TESTS "/llama.cpp-vocab";
  if (!fs::exists(dir / (name + ".gguf"))) {
    BOOST_TEST_MESSAGE("NOTICE: skipped, " << dir << " is absent (shared peer tests)");
    return;
  }
  auto r = bitnet::gguf::Reader::open(dir / (name + ".gguf"));
  BOOST_REQUIRE(r.has_value());
  auto v = vocab_from_gguf(*r);
  BOOST_REQUIRE_MESSAGE(v.has_value(), (v ? "" : v.error().message));
  auto t = Tokenizer::create(std::move(*v));
  BOOST_REQUIRE(t.has_value());
  const std::string inp = slurp(dir / (name + ".gguf.inp"));
  std::istringstream out(slurp(dir / (name + ".gguf.out")));
  const std::string marker = "\n__ggml_vocab_test__\n";
  size_t pos = 0, cases = 0;
  std::string expected_line;
  while (std::getline(out, expected_line)) {
    const size_t end = inp.find(marker, pos);
    BOOST_REQUIRE(end != std::string::npos);
    const std::string text = inp.substr(pos, end - pos);
    pos = end + marker.size();
    std::vector<TokenId> expected;
    std::istringstream ids(expected_line);
    for (TokenId id; ids >> id;)
      expected.push_back(id);
    BOOST_TEST(t->encode(text, {.add_special = false}) == expected,
               name << " text '" << text << "'" << boost::test_tools::per_element());
    ++cases;
  }
  BOOST_TEST(cases > 40u);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tokenizer_peer)

BOOST_AUTO_TEST_CASE(llama_spm) {
  check_peer("ggml-vocab-llama-spm");
}
BOOST_AUTO_TEST_CASE(phi3) {
  check_peer("ggml-vocab-phi-3");
}
BOOST_AUTO_TEST_CASE(gpt2) {
  check_peer("ggml-vocab-gpt-2");
}

BOOST_AUTO_TEST_SUITE_END()
