// Hand-made hostile GGUF files: each must become an error that names the field and the byte
// offset, never a crash, a hang or a huge allocation.
#include <bitnet/types.h>
#include <bitnet/runtime/gguf/reader.hpp>
#include <bitnet/runtime/gguf/writer.hpp>

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <random>

using namespace bitnet::gguf;

namespace {

struct Bytes {
  std::vector<std::byte> b;
  template <class T>
  Bytes& put(T v) {
    const auto* p = reinterpret_cast<const std::byte*>(&v);
    b.insert(b.end(), p, p + sizeof(T));
    return *this;
  }
  Bytes& str(const std::string& s) {
    put<uint64_t>(s.size());
    for (char c : s)
      b.push_back(static_cast<std::byte>(c));
    return *this;
  }
  Bytes& pad(size_t n) {
    b.resize(b.size() + n);
    return *this;
  }
};

Bytes header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
  Bytes h;
  h.put<uint32_t>(0x46554747).put<uint32_t>(version).put<uint64_t>(n_tensors).put<uint64_t>(n_kv);
  return h;
}

// One tensor description: name, dims, type, offset.
Bytes& tensor(Bytes& b, const std::string& name, std::vector<uint64_t> ne, uint32_t type,
              uint64_t offset) {
  b.str(name).put<uint32_t>(static_cast<uint32_t>(ne.size()));
  for (uint64_t n : ne)
    b.put<uint64_t>(n);
  return b.put<uint32_t>(type).put<uint64_t>(offset);
}

void expect_error(const Bytes& file, std::initializer_list<std::string> parts) {
  auto r = Reader::parse(file.b, "hostile.gguf");
  BOOST_REQUIRE_MESSAGE(!r, "a hostile file was accepted");
  const std::string& m = r.error().message;
  BOOST_TEST_INFO("message: " << m);
  BOOST_TEST(m.rfind("hostile.gguf: ", 0) == 0u);
  for (const std::string& p : parts)
    BOOST_TEST(m.find(p) != std::string::npos, "missing: " << p);
}

std::vector<std::byte> valid_file() {
  Writer w;
  w.set("general.architecture", Value::string("llama"));
  w.set("tokens", Value::array(ValueType::string, {Value::string("a"), Value::string("b")}));
  w.set("nested",
        Value::array(ValueType::array,
                     {Value::array(ValueType::u8, {Value::of(ValueType::u8, uint64_t{1})})}));
  BOOST_REQUIRE(w.add_tensor("w", BITNET_TYPE_F32, {8, 2}, std::vector<std::byte>(64)));
  BOOST_REQUIRE(w.add_tensor("q", BITNET_TYPE_Q8_0, {32}, std::vector<std::byte>(34)));
  char tmpl[] = "/tmp/bitnet-hostile-XXXXXX";
  close(mkstemp(tmpl));
  BOOST_REQUIRE(w.write(tmpl));
  auto r = bitnet::MappedFile::open(tmpl);
  BOOST_REQUIRE(r);
  std::vector<std::byte> bytes(r->bytes().begin(), r->bytes().end());
  std::filesystem::remove(tmpl);
  return bytes;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(gguf_hostile)

BOOST_AUTO_TEST_CASE(file_header) {
  expect_error(Bytes{}, {"the file is empty"});
  Bytes short_file;
  short_file.put<uint32_t>(0x46554747).put<uint16_t>(3);
  expect_error(short_file, {"version at byte 4", "needs 4 bytes", "ends after 2"});
  Bytes magic;
  magic.put<uint32_t>(0x46554748).put<uint32_t>(3).put<uint64_t>(0).put<uint64_t>(0);
  expect_error(magic, {"magic at byte 0", "not a GGUF file"});
  expect_error(header(0, 0, 99), {"version at byte 4", "version 99 is not supported"});
  expect_error(header(0, 0, 1), {"version 1 is not supported"});
  expect_error(header(0, 0, 0x03000000), {"big-endian"});
  expect_error(header(uint64_t{1} << 62, 0), {"tensor count at byte 8", "cannot fit"});
  expect_error(header(0, uint64_t{1} << 62), {"metadata count at byte 16", "cannot fit"});
}

BOOST_AUTO_TEST_CASE(metadata_entries) {
  Bytes key_past_end = header(0, 1);
  key_past_end.put<uint64_t>(1000).pad(20);
  expect_error(key_past_end, {"metadata entry 0 key at byte 24", "length 1000 runs past the end"});

  Bytes value_type = header(0, 1);
  value_type.str("k").put<uint32_t>(13).pad(8);
  expect_error(value_type, {"type at byte 33", "unknown value type 13"});

  Bytes string_past_end = header(0, 1);
  string_past_end.str("k").put<uint32_t>(8).put<uint64_t>(uint64_t{1} << 62);
  expect_error(string_past_end, {"metadata 'k' at byte 37", "runs past the end"});

  Bytes array_past_end = header(0, 1);
  array_past_end.str("k").put<uint32_t>(9).put<uint32_t>(4).put<uint64_t>(uint64_t{1} << 40);
  expect_error(array_past_end, {"metadata 'k' at byte 37", "cannot fit"});

  Bytes deep = header(0, 1);
  deep.str("k").put<uint32_t>(9);
  for (int i = 0; i < 5000; ++i)
    deep.put<uint32_t>(9).put<uint64_t>(1);
  expect_error(deep, {"nested more than 8 deep"});

  Bytes bad_bool = header(0, 1);
  bad_bool.str("k").put<uint32_t>(7).put<uint8_t>(2);
  expect_error(bad_bool, {"bool is 2"});

  // The message names the element by its index path.
  Bytes nested_bad = header(0, 1);
  nested_bad.str("k").put<uint32_t>(9).put<uint32_t>(9).put<uint64_t>(2);
  nested_bad.put<uint32_t>(7).put<uint64_t>(1).put<uint8_t>(1);
  nested_bad.put<uint32_t>(7).put<uint64_t>(1).put<uint8_t>(5);
  expect_error(nested_bad, {"metadata 'k'[1][0] at byte 74", "bool is 5"});

  Bytes dup = header(0, 2);
  dup.str("k").put<uint32_t>(0).put<uint8_t>(1).str("k").put<uint32_t>(0).put<uint8_t>(1);
  expect_error(dup, {"metadata entry 1 at byte 38", "duplicate key 'k'"});

  Bytes align3 = header(0, 1);
  align3.str("general.alignment").put<uint32_t>(4).put<uint32_t>(3);
  expect_error(align3, {"general.alignment must be a u32 power of two"});
  Bytes align_string = header(0, 1);
  align_string.str("general.alignment").put<uint32_t>(8).str("32");
  expect_error(align_string, {"general.alignment must be a u32", "string"});
}

BOOST_AUTO_TEST_CASE(tensor_infos) {
  Bytes dims100 = header(1, 0);
  dims100.str("t").put<uint32_t>(100).pad(100 * 8 + 12);
  expect_error(dims100, {"tensor 't' at byte 33", "100 dimensions"});

  Bytes overflow = header(1, 0);
  tensor(overflow, "t", {uint64_t{1} << 32, uint64_t{1} << 32, uint64_t{1} << 32}, 0, 0).pad(64);
  expect_error(overflow, {"tensor 't'", "product of its dimensions overflows"});
  // Found by the fuzzer: 2^62 F32 elements, whose 2^64 bytes wrapped to a size that fit the
  // file, so readers of the data ran past it.
  Bytes wraps = header(1, 0);
  tensor(wraps, "t", {uint64_t{1} << 62}, 0, 0).pad(64);
  expect_error(wraps, {"tensor 't'", "product of its dimensions overflows"});

  Bytes zero_dim = header(1, 0);
  tensor(zero_dim, "t", {4, 0}, 0, 0).pad(64);
  expect_error(zero_dim, {"dimension 1 is 0"});

  Bytes negative_dim = header(1, 0);
  tensor(negative_dim, "t", {uint64_t(-4)}, 0, 0).pad(64);
  expect_error(negative_dim, {"dimension 0 is 18446744073709551612"});

  Bytes unknown_type = header(1, 0);
  tensor(unknown_type, "t", {4}, 99, 0).pad(64);
  expect_error(unknown_type, {"tensor 't' at byte 45", "unknown tensor type id 99"});

  Bytes partial_block = header(1, 0);
  tensor(partial_block, "t", {33}, BITNET_TYPE_Q8_0, 0).pad(64);
  expect_error(partial_block,
               {"tensor 't' at byte 37", "not a multiple of the Q8_0 block size 32"});

  Bytes dup = header(2, 0);
  tensor(dup, "t", {4}, 0, 0);
  tensor(dup, "t", {4}, 0, 32).pad(128);
  expect_error(dup, {"tensor 1 at byte 57", "duplicate tensor name 't'"});
}

BOOST_AUTO_TEST_CASE(tensor_data) {
  // Header (24) + info (8+1+4+8+4+8 = 33) = 57, data from 64.
  Bytes past_end = header(1, 0);
  tensor(past_end, "t", {16}, 0, 0).pad(7 + 32);
  expect_error(past_end, {"tensor 't' (described at byte 24)", "64 bytes at data offset 0",
                          "run past the end", "truncated"});

  Bytes huge_offset = header(1, 0);
  tensor(huge_offset, "t", {4}, 0, uint64_t{1} << 62).pad(7 + 32);
  expect_error(huge_offset, {"run past the end"});

  Bytes misaligned = header(1, 0);
  tensor(misaligned, "t", {4}, 0, 4).pad(7 + 64);
  expect_error(misaligned, {"data offset 4 is not a multiple of the alignment 32"});

  Bytes overlap = header(2, 0);
  tensor(overlap, "a", {16}, 0, 0);
  tensor(overlap, "b", {16}, 0, 32).pad(128 + 64);
  expect_error(overlap, {"tensors 'a' and 'b' overlap"});
}

BOOST_AUTO_TEST_CASE(every_truncation_of_a_valid_file_is_an_error) {
  const std::vector<std::byte> good = valid_file();
  auto whole = Reader::parse(good, "good.gguf");
  BOOST_REQUIRE(whole);
  // Only the padding after the last tensor's data may go missing.
  size_t needed = 0;
  for (const auto& t : whole->tensors())
    needed = std::max(needed, whole->data_offset() + t.offset + t.bytes);
  BOOST_REQUIRE_LT(needed, good.size());
  for (size_t n = 0; n <= good.size(); ++n) {
    std::vector<std::byte> cut(good.begin(), good.begin() + n);
    BOOST_REQUIRE_MESSAGE(Reader::parse(cut, "cut.gguf").has_value() == (n >= needed),
                          "wrong verdict on the file cut at " << n);
  }
}

BOOST_AUTO_TEST_CASE(random_corruption_never_crashes) {
  const std::vector<std::byte> good = valid_file();
  std::mt19937 rng(99);
  size_t rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::byte> bad = good;
    for (int flips = 1 + rng() % 4; flips > 0; --flips)
      bad[rng() % bad.size()] = static_cast<std::byte>(rng() & 0xff);
    auto r = Reader::parse(bad, "mutated.gguf");
    if (!r) {
      ++rejected;
      continue;
    }
    // Whatever was accepted must be internally consistent.
    for (const auto& t : r->tensors())
      BOOST_REQUIRE(r->data(t).size() == t.bytes);
  }
  BOOST_TEST(rejected > 0u);
}

BOOST_AUTO_TEST_SUITE_END()
