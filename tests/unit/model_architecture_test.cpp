// The architecture table: tensor lists per architecture, hyperparameters read back from files
// the generator writes, and every problem reported at once when they are wrong.
#include <bitnet/runtime/gguf/writer.hpp>
#include <bitnet/runtime/model/architecture.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "random_model.hpp"

using namespace bitnet;
using gguf::Value;
using gguf::ValueType;

namespace {

// The file is unlinked at once; the reader's mapping keeps its bytes.
gguf::Reader read_back(const gguf::Writer& w) {
  const auto path = std::filesystem::temp_directory_path() / "bitnet-arch-test.gguf";
  BOOST_REQUIRE(w.write(path));
  auto r = gguf::Reader::open(path);
  std::filesystem::remove(path);
  BOOST_REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
  return std::move(*r);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(model_architecture)

BOOST_AUTO_TEST_CASE(tensor_lists_follow_each_layout) {
  model::Hparams h;
  h.n_vocab = 100;
  h.n_embd = 64;
  h.n_layer = 3;
  h.n_ff = 96;
  h.n_head = 4;
  h.n_head_kv = 2;
  h.head_dim = h.n_rot = 16;
  auto names = [&](std::string_view arch) {
    std::vector<std::string> out;
    for (const auto& s : model::tensor_specs(*model::find_architecture(arch), h))
      out.push_back(s.name);
    return out;
  };
  auto has = [](const std::vector<std::string>& v, const char* n) {
    return std::ranges::count(v, std::string(n)) == 1;
  };
  // 3 global (output optional) + 9 per layer.
  BOOST_TEST(names("llama").size() == 3u + 3 * 9);
  // BitNet adds attn_sub_norm and ffn_sub_norm.
  const auto bitnet = names("bitnet-b1.58");
  BOOST_TEST(bitnet.size() == 3u + 3 * 11);
  BOOST_TEST(has(bitnet, "blk.2.attn_sub_norm.weight"));
  BOOST_TEST(has(bitnet, "blk.2.ffn_sub_norm.weight"));
  // Qwen2 adds q/k/v biases.
  BOOST_TEST(has(names("qwen2"), "blk.0.attn_k.bias"));
  // Phi-3 fuses q/k/v and gate/up and may carry rope factors.
  const auto phi = names("phi3");
  BOOST_TEST(has(phi, "blk.1.attn_qkv.weight"));
  BOOST_TEST(!has(phi, "blk.1.ffn_gate.weight"));
  BOOST_TEST(has(phi, "rope_factors_long.weight"));

  const auto specs = model::tensor_specs(*model::find_architecture("phi3"), h);
  const auto qkv =
      std::ranges::find(specs, std::string("blk.0.attn_qkv.weight"), &model::TensorSpec::name);
  BOOST_TEST((qkv->ne == std::vector<int64_t>{64, 64 + 2 * 32}));
  const auto up =
      std::ranges::find(specs, std::string("blk.0.ffn_up.weight"), &model::TensorSpec::name);
  BOOST_TEST((up->ne == std::vector<int64_t>{64, 2 * 96}));
  BOOST_TEST(model::find_architecture("gptj") == nullptr);
}

BOOST_AUTO_TEST_CASE(hyperparameters_read_back_from_generated_models) {
  for (const auto& arch : model::architectures()) {
    BOOST_TEST_CONTEXT(arch.name) {
      testing::RandomModelOptions o{.arch = std::string(arch.name),
                                    .n_embd = 96,
                                    .n_layer = 3,
                                    .n_head = 6,
                                    .n_head_kv = 3,
                                    .n_ff = 160,
                                    .n_ctx = 512};
      auto w = testing::random_model(o);
      BOOST_REQUIRE(w.has_value());
      const gguf::Reader r = read_back(*w);
      auto h = model::require_hparams(r, arch);
      BOOST_REQUIRE_MESSAGE(h.has_value(), (h ? "" : h.error().message));
      BOOST_TEST(h->n_embd == 96);
      BOOST_TEST(h->n_layer == 3);
      BOOST_TEST(h->n_head == 6);
      BOOST_TEST(h->n_head_kv == 3);
      BOOST_TEST(h->head_dim == 16);
      BOOST_TEST(h->n_rot == 16);
      BOOST_TEST(h->n_ff == 160);
      BOOST_TEST(h->n_ctx == 512);
      BOOST_TEST(h->n_vocab == r.tensor("token_embd.weight")->ne[1]);
      BOOST_TEST(h->rms_eps > 0);
      for (const auto& s : model::tensor_specs(arch, *h)) {
        const gguf::TensorInfo* t = r.tensor(s.name);
        if (s.optional) continue;
        BOOST_REQUIRE_MESSAGE(t, s.name);
        BOOST_TEST(std::ranges::equal(std::span(t->ne.data(), t->n_dims), s.ne), s.name);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(every_hyperparameter_problem_is_reported) {
  gguf::Writer w;
  w.set("general.architecture", Value::string("llama"));
  w.set("llama.embedding_length", Value::of(ValueType::u32, uint64_t{100}));
  w.set("llama.attention.head_count", Value::of(ValueType::u32, uint64_t{7}));
  w.set("llama.attention.head_count_kv", Value::of(ValueType::u32, uint64_t{3}));
  w.set("llama.block_count", Value::of(ValueType::i32, int64_t{-2}));
  w.set("llama.attention.layer_norm_rms_epsilon", Value::string("small"));
  const gguf::Reader r = read_back(w);
  const auto rep = model::read_hparams(r, *model::find_architecture("llama"));
  std::string all;
  for (const auto& p : rep.problems)
    all += p + "\n";
  for (const char* expected :
       {"llama.context_length is missing", "llama.feed_forward_length is missing",
        "llama.block_count is -2 (i32); a positive integer is required",
        "llama.attention.layer_norm_rms_epsilon is \"small\"; a positive number is required",
        "head_count (7) is not a multiple of attention.head_count_kv (3)",
        "embedding_length (100) is not a multiple of attention.head_count (7)",
        "the vocabulary size is unknown"})
    BOOST_TEST(all.find(expected) != std::string::npos, expected << "\nin:\n" << all);
  const auto err = model::require_hparams(r, *model::find_architecture("llama"));
  BOOST_REQUIRE(!err.has_value());
  BOOST_TEST(err.error().message.find("bitnet compat-check") != std::string::npos);
}

// The fuzzer's finding: a block count of billions made every check build billions of tensor
// names. It is now a hyperparameter problem, found before any tensor list is built.
BOOST_AUTO_TEST_CASE(block_count_beyond_the_tensors_is_refused) {
  testing::RandomModelOptions o{.arch = "llama",
                                .n_embd = 32,
                                .n_layer = 1,
                                .n_head = 2,
                                .n_head_kv = 1,
                                .n_ff = 64,
                                .n_ctx = 64};
  auto w = testing::random_model(o);
  BOOST_REQUIRE(w.has_value());
  w->set("llama.block_count", Value::of(ValueType::u32, uint64_t{3'000'000'000}));
  const gguf::Reader r = read_back(*w);
  const auto rep = model::read_hparams(r, *model::find_architecture("llama"));
  BOOST_REQUIRE_EQUAL(rep.problems.size(), 1u);
  BOOST_TEST(rep.problems[0].find("llama.block_count (3000000000) is more than the file's "
                                  "tensor count") != std::string::npos,
             rep.problems[0]);
}

BOOST_AUTO_TEST_SUITE_END()
