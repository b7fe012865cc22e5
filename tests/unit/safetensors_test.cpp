// Hand-made safetensors files, valid and hostile: every hostile one must become an error that
// names the tensor or field, never a crash or an out-of-range read; sharded checkpoints too.
#include <bitnet/runtime/convert/safetensors.hpp>
#include <bitnet/sdk/half.hpp>

#include <boost/test/unit_test.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>

using namespace bitnet::convert;
namespace fs = std::filesystem;

namespace {

// The 8-byte length, the header text, then `data` bytes of data section.
std::vector<std::byte> file(const std::string& header, std::vector<std::byte> data = {}) {
  std::vector<std::byte> out(8);
  const uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  for (char c : header)
    out.push_back(static_cast<std::byte>(c));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::vector<std::byte> zeros(size_t n) {
  return std::vector<std::byte>(n);
}

void expect_error(const std::vector<std::byte>& bytes, std::initializer_list<std::string> parts) {
  auto r = SafetensorsFile::parse(bytes, "hostile.safetensors");
  BOOST_REQUIRE_MESSAGE(!r, "a hostile file was accepted");
  const std::string& m = r.error().message;
  BOOST_TEST_INFO("message: " << m);
  BOOST_TEST(m.rfind("hostile.safetensors: ", 0) == 0u);
  for (const std::string& p : parts)
    BOOST_TEST(m.find(p) != std::string::npos, "missing: " << p);
}

std::string tensor(const std::string& name, const std::string& dtype, const std::string& shape,
                   uint64_t begin, uint64_t end) {
  return "\"" + name + "\": {\"dtype\": \"" + dtype + "\", \"shape\": " + shape +
         ", \"data_offsets\": [" + std::to_string(begin) + ", " + std::to_string(end) + "]}";
}

void write(const fs::path& p, const std::vector<std::byte>& bytes) {
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(safetensors)

BOOST_AUTO_TEST_CASE(reads_every_float_dtype_and_the_metadata) {
  std::vector<std::byte> data(16 + 4 + 4);
  const float f[4] = {1.5f, -2.0f, 0.25f, 3.0f};
  std::memcpy(data.data(), f, 16);
  const uint16_t h[2] = {bitnet::sdk::f32_to_fp16(-0.5f), bitnet::sdk::f32_to_fp16(2.0f)};
  std::memcpy(data.data() + 16, h, 4);
  const uint16_t b[2] = {bitnet::sdk::f32_to_bf16(7.0f), bitnet::sdk::f32_to_bf16(-1.0f)};
  std::memcpy(data.data() + 20, b, 4);
  const std::string header =
      "{\"__metadata__\": {\"format\": \"pt\"}, " + tensor("w", "F32", "[2, 2]", 0, 16) + ", " +
      tensor("h", "F16", "[2]", 16, 20) + ", " + tensor("b", "BF16", "[2]", 20, 24) + ", " +
      tensor("empty", "F32", "[0, 3]", 24, 24) + "}";
  auto r = SafetensorsFile::parse(file(header, data), "ok.safetensors");
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  BOOST_TEST(r->metadata().at("format") == "pt");
  BOOST_TEST(r->tensors().size() == 4u);
  const SafeTensor* w = r->find("w");
  BOOST_REQUIRE(w);
  BOOST_TEST(w->shape == (std::vector<int64_t>{2, 2}), boost::test_tools::per_element());
  BOOST_TEST(to_f32(*w) == (std::vector<float>{1.5f, -2.0f, 0.25f, 3.0f}),
             boost::test_tools::per_element());
  BOOST_TEST(to_f32(*r->find("h")) == (std::vector<float>{-0.5f, 2.0f}),
             boost::test_tools::per_element());
  BOOST_TEST(to_f32(*r->find("b")) == (std::vector<float>{7.0f, -1.0f}),
             boost::test_tools::per_element());
  BOOST_TEST(r->find("empty")->elements() == 0);
  BOOST_TEST(!r->find("missing"));
}

BOOST_AUTO_TEST_CASE(header_length_and_json) {
  expect_error({}, {"0 bytes", "8-byte header length"});
  expect_error(zeros(5), {"5 bytes", "truncated"});
  std::vector<std::byte> past_end = file("{}");
  const uint64_t too_long = 1000;
  std::memcpy(past_end.data(), &too_long, 8);
  expect_error(past_end, {"header length 1000 runs past the end", "2 bytes follow it"});
  std::vector<std::byte> huge = file("{}");
  const uint64_t over = uint64_t{1} << 40;
  std::memcpy(huge.data(), &over, 8);
  expect_error(huge, {"header length 1099511627776 is over the 100000000-byte limit"});
  expect_error(file("{\"w\": {\"dtype\": "), {"JSON header does not parse"});
  expect_error(file("[1, 2]"), {"not an object"});
  expect_error(file("{\"__metadata__\": {\"n\": 3}}"), {"__metadata__['n'] is not a string"});
  expect_error(file("{\"__metadata__\": []}"), {"__metadata__ is not an object"});
}

BOOST_AUTO_TEST_CASE(tensor_entries) {
  expect_error(file("{\"w\": 3}"), {"tensor 'w' is not a JSON object"});
  expect_error(file("{\"w\": {\"dtype\": \"F32\", \"shape\": [1]}}"),
               {"tensor 'w' needs \"dtype\"", "data_offsets"});
  expect_error(file("{" + tensor("w", "I8", "[4]", 0, 4) + "}", zeros(4)),
               {"tensor 'w' has dtype I8", "only F32, F16 and BF16"});
  expect_error(file("{" + tensor("w", "Q4_K", "[4]", 0, 4) + "}", zeros(4)), {"dtype Q4_K"});
  expect_error(file("{" + tensor("w", "F32", "[-1]", 0, 4) + "}", zeros(4)),
               {"tensor 'w' shape[0] is -1, not a non-negative integer"});
  expect_error(file("{" + tensor("w", "F32", "[1.5]", 0, 4) + "}", zeros(4)),
               {"shape[0] is 1.5E0"});
  expect_error(
      file("{" + tensor("w", "F32", "[1099511627776, 1099511627776, 1099511627776]", 0, 4) + "}",
           zeros(4)),
      {"tensor 'w'", "element count overflows 64 bits"});
  expect_error(file("{" + tensor("w", "F32", "[4611686018427387904]", 0, 4) + "}", zeros(4)),
               {"tensor 'w'", "byte size overflows 64 bits"});
  expect_error(file("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, -4]}}"),
               {"tensor 'w' data_offsets[1] is -4"});
}

BOOST_AUTO_TEST_CASE(offsets_and_sizes) {
  expect_error(file("{" + tensor("w", "F32", "[2]", 0, 8) + "}", zeros(4)),
               {"tensor 'w'", "ending at 8, past the data section's 4 bytes"});
  expect_error(file("{" + tensor("w", "F32", "[0]", 8, 4) + "}", zeros(8)),
               {"tensor 'w'", "[8, 4] that end before they begin"});
  expect_error(file("{" + tensor("w", "F32", "[3]", 0, 8) + "}", zeros(12)),
               {"tensor 'w' spans 8 bytes but its shape [3] of F32 needs 12"});
  expect_error(
      file("{" + tensor("a", "F32", "[2]", 0, 8) + ", " + tensor("b", "F16", "[4]", 4, 12) + "}",
           zeros(12)),
      {"tensors 'a' and 'b' overlap", "bytes 4 to 8"});
  // Same range twice is an overlap too.
  expect_error(
      file("{" + tensor("a", "F32", "[1]", 0, 4) + ", " + tensor("b", "F32", "[1]", 0, 4) + "}",
           zeros(4)),
      {"overlap"});
}

BOOST_AUTO_TEST_CASE(duplicate_names) {
  // A JSON parser keeps one of two equal keys; the reader must see both, however spelled.
  expect_error(
      file("{" + tensor("w", "F32", "[1]", 0, 4) + ", " + tensor("w", "F32", "[1]", 4, 8) + "}",
           zeros(8)),
      {"names 'w' twice"});
  expect_error(file("{" + tensor("w", "F32", "[1]", 0, 4) + ", " +
                        tensor("\\u0077", "F32", "[1]", 4, 8) + "}",
                    zeros(8)),
               {"names 'w' twice"});
  // Keys of nested objects are not tensor names.
  auto ok = SafetensorsFile::parse(
      file("{\"__metadata__\": {\"dtype\": \"x\"}, " + tensor("dtype", "F32", "[1]", 0, 4) + "}",
           zeros(4)),
      "ok");
  BOOST_TEST_REQUIRE(ok.has_value(), (ok ? "" : ok.error().message));
}

BOOST_AUTO_TEST_CASE(checkpoint_folders) {
  const fs::path d = fresh_dir("bitnet-safetensors-ckpt");
  auto missing = Checkpoint::open(d);
  BOOST_REQUIRE(!missing);
  BOOST_TEST(missing.error().message.find("no model.safetensors") != std::string::npos);

  write(d / "a.safetensors", file("{" + tensor("x", "F32", "[1]", 0, 4) + "}", zeros(4)));
  write(d / "b.safetensors", file("{" + tensor("y", "F32", "[2]", 0, 8) + "}", zeros(8)));
  auto index = [&](const std::string& map) {
    std::ofstream(d / "model.safetensors.index.json") << "{\"weight_map\": {" << map << "}}";
    return Checkpoint::open(d);
  };
  auto good = index("\"x\": \"a.safetensors\", \"y\": \"b.safetensors\"");
  BOOST_REQUIRE_MESSAGE(good, (good ? "" : good.error().message));
  BOOST_TEST(good->tensors().size() == 2u);
  BOOST_TEST(good->find("y")->shape == (std::vector<int64_t>{2}), boost::test_tools::per_element());

  auto err = [&](const std::string& map, const std::string& part) {
    auto r = index(map);
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error().message.find(part) != std::string::npos, r.error().message);
  };
  err("\"x\": \"../a.safetensors\"", "not the file name of a shard in the folder");
  err("\"x\": 3", "not the file name of a shard");
  err("\"x\": \"a.safetensors\", \"z\": \"a.safetensors\"",
      "tensor 'z' is listed in a.safetensors");
  err("\"x\": \"gone.safetensors\"", "gone.safetensors");
  write(d / "c.safetensors", file("{" + tensor("x", "F32", "[1]", 0, 4) + "}", zeros(4)));
  err("\"x\": \"a.safetensors\", \"y\": \"c.safetensors\"",
      "tensor 'x' is in two shards, a.safetensors and c.safetensors");
  fs::remove_all(d);
}

BOOST_AUTO_TEST_SUITE_END()
