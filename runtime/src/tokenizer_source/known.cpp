#include <bitnet/runtime/tokenizer_source/known.hpp>

#include <array>

namespace bitnet::tokenizer_source {
namespace {

// Gated originals (meta-llama/*) need a token, so the defaults are public copies of the same
// files; a mirror or an explicit --repo can point elsewhere. BitNet b1.58 2B4T uses the
// LLaMA-3 tokenizer, and its own repository carries it.
constexpr std::array kKnown = {
    KnownTokenizer{"llama", 128256, "llama3-128k", "NousResearch/Meta-Llama-3-8B"},
    KnownTokenizer{"bitnet-b1.58", 128256, "llama3-128k", "microsoft/bitnet-b1.58-2B-4T"},
    KnownTokenizer{"llama", 32000, "llama2-32k", "NousResearch/Llama-2-7b-hf"},
    KnownTokenizer{"phi3", 32064, "phi3-32k", "microsoft/Phi-3-mini-4k-instruct"},
    KnownTokenizer{"qwen2", 151936, "qwen2.5-152k", "Qwen/Qwen2.5-0.5B-Instruct"},
    KnownTokenizer{"gpt2", 50257, "gpt2-50k", "openai-community/gpt2"},
};

}  // namespace

std::span<const KnownTokenizer> known_tokenizers() {
  return kKnown;
}

const KnownTokenizer* find_known_tokenizer(std::string_view architecture, int64_t n_vocab) {
  for (const KnownTokenizer& k : kKnown)
    if (k.architecture == architecture && k.n_vocab == n_vocab) return &k;
  return nullptr;
}

}  // namespace bitnet::tokenizer_source
