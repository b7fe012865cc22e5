// Writer -> reader round trips: every metadata value type (nested arrays included) and a tensor
// of every supported type come back exactly.
#include <bitnet/runtime/gguf/reader.hpp>
#include <bitnet/runtime/gguf/writer.hpp>
#include <bitnet/sdk/types.hpp>

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <random>

namespace fs = std::filesystem;
using namespace bitnet::gguf;

namespace {

struct TempFile {
  fs::path path;
  TempFile() {
    char tmpl[] = "/tmp/bitnet-gguf-XXXXXX";
    const int fd = mkstemp(tmpl);
    close(fd);
    path = tmpl;
  }
  ~TempFile() { fs::remove(path); }
};

std::vector<std::byte> random_bytes(size_t n, std::mt19937& rng) {
  std::vector<std::byte> v(n);
  for (auto& b : v)
    b = static_cast<std::byte>(rng() & 0xff);
  return v;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(gguf_roundtrip)

BOOST_AUTO_TEST_CASE(every_value_type_and_nested_arrays) {
  std::vector<std::pair<std::string, Value>> kv = {
      {"u8", Value::of(ValueType::u8, uint64_t{255})},
      {"i8", Value::of(ValueType::i8, int64_t{-128})},
      {"u16", Value::of(ValueType::u16, uint64_t{65535})},
      {"i16", Value::of(ValueType::i16, int64_t{-32768})},
      {"u32", Value::of(ValueType::u32, uint64_t{4000000000u})},
      {"i32", Value::of(ValueType::i32, int64_t{-2000000000})},
      {"u64", Value::of(ValueType::u64, uint64_t{18000000000000000000u})},
      {"i64", Value::of(ValueType::i64, int64_t{-9000000000000000000})},
      {"f32", Value::of(ValueType::f32, double{0.1f})},
      {"f64", Value::of(ValueType::f64, 0.1)},
      {"bool", Value::boolean(true)},
      {"string", Value::string("naïve ▁token \n with \"quotes\"")},
      {"empty", Value::string("")},
      {"strings", Value::array(ValueType::string, {Value::string("a"), Value::string("bc")})},
      {"nested",
       Value::array(ValueType::array,
                    {Value::array(ValueType::i32, {Value::of(ValueType::i32, int64_t{1}),
                                                   Value::of(ValueType::i32, int64_t{-2})}),
                     Value::array(ValueType::f32, {})})},
      {"empty_array", Value::array(ValueType::u64, {})},
  };
  Writer w;
  for (const auto& [k, v] : kv)
    w.set(k, v);
  TempFile f;
  BOOST_REQUIRE(w.write(f.path));
  auto r = Reader::open(f.path);
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  BOOST_TEST(r->version() == 3u);
  BOOST_REQUIRE_EQUAL(r->metadata().size(), kv.size());
  for (size_t i = 0; i < kv.size(); ++i) {
    BOOST_TEST(r->metadata()[i].key == kv[i].first);
    BOOST_TEST((r->metadata()[i].value == kv[i].second), kv[i].first);
  }
  BOOST_TEST(r->tensors().empty());
}

BOOST_AUTO_TEST_CASE(a_tensor_of_every_type_comes_back_byte_exact) {
  std::mt19937 rng(7);
  Writer w;
  w.set("general.architecture", Value::string("llama"));
  w.set("general.alignment", Value::of(ValueType::u32, uint64_t{64}));
  struct Expect {
    std::string name;
    int32_t type;
    std::vector<int64_t> ne;
    std::vector<std::byte> data;
  };
  std::vector<Expect> expected;
  for (const auto& t : bitnet::sdk::kTypeTraits) {
    // Three rows of two blocks, and a 3-d tensor, so rows and planes are both exercised.
    const std::vector<int64_t> ne = {t.block_elems * 2, 3, 2};
    const size_t bytes = *bitnet::sdk::tensor_bytes(t.id, ne.data(), 3);
    Expect e{"t." + std::string(t.name), t.id, ne, random_bytes(bytes, rng)};
    BOOST_REQUIRE(w.add_tensor(e.name, e.type, e.ne, e.data));
    expected.push_back(std::move(e));
  }
  TempFile f;
  BOOST_REQUIRE(w.write(f.path));
  auto r = Reader::open(f.path);
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  BOOST_TEST(r->alignment() == 64u);
  BOOST_TEST(r->data_offset() % 64 == 0u);
  BOOST_REQUIRE_EQUAL(r->tensors().size(), expected.size());
  for (const Expect& e : expected) {
    const TensorInfo* t = r->tensor(e.name);
    BOOST_REQUIRE_MESSAGE(t, e.name);
    BOOST_TEST(t->type == e.type);
    BOOST_TEST(t->n_dims == 3u);
    BOOST_TEST(t->ne[0] == e.ne[0]);
    BOOST_TEST(t->ne[2] == 2);
    BOOST_TEST(t->offset % 64 == 0u);
    const auto got = r->data(*t);
    BOOST_REQUIRE_EQUAL(got.size(), e.data.size());
    BOOST_TEST(std::equal(got.begin(), got.end(), e.data.begin()), e.name);
  }
}

BOOST_AUTO_TEST_CASE(i2s_tensors_carry_a_32_byte_tail) {
  const int64_t ne[] = {128, 4};
  BOOST_TEST(*bitnet::sdk::tensor_bytes(BITNET_TYPE_I2_S, ne, 2) == 128u * 4 / 4 + 32);
}

BOOST_AUTO_TEST_CASE(writer_refuses_wrong_sizes_and_shapes) {
  Writer w;
  BOOST_TEST(!w.add_tensor("a", BITNET_TYPE_F32, {4}, std::vector<std::byte>(15)));
  BOOST_TEST(!w.add_tensor("b", BITNET_TYPE_Q8_0, {33}, std::vector<std::byte>(34)));
  BOOST_TEST(!w.add_tensor("c", BITNET_TYPE_F32, {1, 1, 1, 1, 1}, std::vector<std::byte>(4)));
  BOOST_TEST(!w.add_tensor("d", 99, {1}, std::vector<std::byte>(4)));
  Writer bad_alignment;
  bad_alignment.set("general.alignment", Value::string("32"));
  auto refused = bad_alignment.write("/tmp/bitnet-never-written.gguf");
  BOOST_REQUIRE(!refused);
  BOOST_TEST(refused.error().message.find("general.alignment must be a u32") != std::string::npos);
  BOOST_TEST(!std::filesystem::exists("/tmp/bitnet-never-written.gguf"));
  BOOST_TEST(w.add_tensor("e", BITNET_TYPE_F32, {1}, std::vector<std::byte>(4)).has_value());
  auto dup = w.add_tensor("e", BITNET_TYPE_F32, {1}, std::vector<std::byte>(4));
  BOOST_REQUIRE(!dup);
  BOOST_TEST(dup.error().message == "tensor 'e' was already added");
}

BOOST_AUTO_TEST_CASE(failed_write_leaves_no_file) {
  Writer w;
  w.set("x", Value::string("y"));
  auto r = w.write("/nonexistent-dir/model.gguf");
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().message.find("/nonexistent-dir/model.gguf") != std::string::npos);
  BOOST_TEST(!fs::exists("/nonexistent-dir"));
}

BOOST_AUTO_TEST_SUITE_END()
