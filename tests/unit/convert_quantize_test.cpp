// The converter's encoders against the layouts written out again here from their specification
// (docs/ARCHITECTURE.md for I2_S, ggml for TQ2_0 and Q8_0), and BitNet's absmean ternarisation.
#include <bitnet/types.h>
#include <bitnet/runtime/convert/quantize.hpp>
#include <bitnet/sdk/half.hpp>

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstring>
#include <random>

using namespace bitnet::convert;

namespace {

template <class T>
T at(const std::vector<std::byte>& b, size_t offset) {
  T v;
  std::memcpy(&v, b.data() + offset, sizeof v);
  return v;
}

int code_at(const std::vector<std::byte>& b, size_t byte, int shift) {
  return (std::to_integer<int>(b[byte]) >> shift) & 3;
}

// Ternary values, a few blocks with their own scale each.
std::vector<float> ternary(size_t n, size_t block, std::mt19937& rng) {
  std::uniform_int_distribution<int> t(-1, 1);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = static_cast<float>(t(rng)) * (0.25f + 0.125f * static_cast<float>(i / block % 3));
  return v;
}

std::string error_of(const std::vector<float>& v, int64_t row, int32_t type) {
  auto r = encode_tensor(v, row, type);
  BOOST_REQUIRE(!r);
  return r.error().message;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(convert_quantize)

BOOST_AUTO_TEST_CASE(i2_s_layout) {
  std::mt19937 rng(1);
  const std::vector<float> v = ternary(256 * 2, 1 << 20, rng);  // one scale: 0.25
  auto r = encode_tensor(v, 256, BITNET_TYPE_I2_S);
  BOOST_REQUIRE(r);
  BOOST_REQUIRE_EQUAL(r->size(), v.size() / 4 + 32);
  for (size_t e = 0; e < v.size(); ++e) {
    const int c = code_at(*r, e / 128 * 32 + e % 32, 6 - 2 * static_cast<int>(e % 128 / 32));
    BOOST_TEST(static_cast<float>(c - 1) * 0.25f == v[e], "element " << e);
  }
  BOOST_TEST(at<float>(*r, v.size() / 4) == 0.25f);
  for (size_t i = v.size() / 4 + 4; i < r->size(); ++i)
    BOOST_TEST(std::to_integer<int>((*r)[i]) == 0);
}

BOOST_AUTO_TEST_CASE(tq2_0_layout) {
  std::mt19937 rng(2);
  const std::vector<float> v = ternary(256 * 3, 256, rng);  // a scale per block
  auto r = encode_tensor(v, 768, BITNET_TYPE_TQ2_0);
  BOOST_REQUIRE(r);
  BOOST_REQUIRE_EQUAL(r->size(), 3u * 66);
  for (size_t e = 0; e < v.size(); ++e) {
    const size_t b = e / 256, k = e % 256;
    const int c = code_at(*r, b * 66 + k / 128 * 32 + k % 32, 2 * static_cast<int>(k % 128 / 32));
    const float d = bitnet::sdk::fp16_to_f32(at<uint16_t>(*r, b * 66 + 64));
    BOOST_TEST(static_cast<float>(c - 1) * d == v[e], "element " << e);
  }
}

// ggml's Q4_0: the signed extreme of each block maps to nibble 0 (value -8 d), every value
// lands within half a step, and nibbles 0..15 of a block's bytes are elements 0..15 (low) and
// 16..31 (high).
BOOST_AUTO_TEST_CASE(q4_0_within_half_a_step) {
  std::mt19937 rng(5);
  std::normal_distribution<float> n(0, 1);
  std::vector<float> v(96);
  for (float& x : v)
    x = n(rng);
  auto r = encode_tensor(v, 96, BITNET_TYPE_Q4_0);
  BOOST_REQUIRE(r);
  BOOST_REQUIRE_EQUAL(r->size(), 3u * 18);
  for (size_t b = 0; b < 3; ++b) {
    const float d = bitnet::sdk::fp16_to_f32(at<uint16_t>(*r, b * 18));
    for (size_t i = 0; i < 32; ++i) {
      const uint8_t byte = at<uint8_t>(*r, b * 18 + 2 + i % 16);
      const int q = (i < 16 ? byte & 15 : byte >> 4) - 8;
      BOOST_TEST(std::fabs(d * q - v[b * 32 + i]) <= std::fabs(d) * 0.51f + 1e-3f,
                 "block " << b << " element " << i);
    }
  }
}

BOOST_AUTO_TEST_CASE(q8_0_within_half_a_step) {
  std::mt19937 rng(3);
  std::normal_distribution<float> n(0, 1);
  std::vector<float> v(64);
  for (float& x : v)
    x = n(rng);
  auto r = encode_tensor(v, 64, BITNET_TYPE_Q8_0);
  BOOST_REQUIRE(r);
  BOOST_REQUIRE_EQUAL(r->size(), 2u * 34);
  for (size_t b = 0; b < 2; ++b) {
    float amax = 0;
    for (size_t i = 0; i < 32; ++i)
      amax = std::max(amax, std::fabs(v[b * 32 + i]));
    const float d = bitnet::sdk::fp16_to_f32(at<uint16_t>(*r, b * 34));
    BOOST_TEST(at<uint16_t>(*r, b * 34) == bitnet::sdk::f32_to_fp16(amax / 127));
    for (size_t i = 0; i < 32; ++i) {
      const float x = v[b * 32 + i];
      BOOST_TEST(std::fabs(d * at<int8_t>(*r, b * 34 + 2 + i) - x) <= d * 0.51f + 1e-6f);
    }
  }
}

BOOST_AUTO_TEST_CASE(float_types) {
  const std::vector<float> v = {1.0f, -0.5f, 3.140625f, 0.0f};
  auto f32 = encode_tensor(v, 4, BITNET_TYPE_F32);
  BOOST_REQUIRE(f32);
  BOOST_TEST(at<float>(*f32, 8) == 3.140625f);
  auto f16 = encode_tensor(v, 4, BITNET_TYPE_F16);
  BOOST_REQUIRE(f16);
  BOOST_TEST(bitnet::sdk::fp16_to_f32(at<uint16_t>(*f16, 2)) == -0.5f);
  BOOST_TEST(
      error_of({1.0f, 70000.0f}, 2, BITNET_TYPE_F16).find("element 1 is beyond F16's range") !=
      std::string::npos);
}

BOOST_AUTO_TEST_CASE(refusals_name_the_element) {
  std::vector<float> v(256, 0.5f);
  v[7] = 0.25f;
  BOOST_TEST(error_of(v, 256, BITNET_TYPE_I2_S).find("element 7 is not 0 or +-0.5") !=
             std::string::npos);
  std::vector<float> blocks(512, 0.5f);
  blocks[300] = -0.75f;  // the second block's largest magnitude: element 256 is then wrong
  BOOST_TEST(error_of(blocks, 512, BITNET_TYPE_TQ2_0).find("element 256 is not 0 or +-0.75") !=
             std::string::npos);
  BOOST_TEST(error_of(std::vector<float>(48), 48, BITNET_TYPE_Q8_0)
                 .find("rows of 48 elements are not a whole number of 32-element Q8_0 blocks") !=
             std::string::npos);
  BOOST_TEST(error_of(std::vector<float>(64), 64, BITNET_TYPE_I2_S).find("128-element I2_S") !=
             std::string::npos);
  BOOST_TEST(error_of(std::vector<float>(128), 128, BITNET_TYPE_TQ2_0).find("256-element TQ2_0") !=
             std::string::npos);
  BOOST_TEST(error_of(std::vector<float>(4), 4, BITNET_TYPE_Q4_0).find("32-element Q4_0") !=
             std::string::npos);
  BOOST_TEST(error_of(std::vector<float>(32), 32, BITNET_TYPE_Q5_0).find("cannot write") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(absmean_ternarisation) {
  std::vector<float> v = {0.9f, -0.1f, 0.3f, -0.6f};
  const float s = ternarize_absmean(v);
  BOOST_TEST(s == 0.475f);
  BOOST_TEST(v == (std::vector<float>{s, 0.0f, s, -s}), boost::test_tools::per_element());
  // The result is what I2_S holds exactly.
  std::mt19937 rng(4);
  std::normal_distribution<float> n(0, 0.02f);
  std::vector<float> w(384);
  for (float& x : w)
    x = n(rng);
  ternarize_absmean(w);
  BOOST_TEST(encode_tensor(w, 128, BITNET_TYPE_I2_S).has_value());
  std::vector<float> zero(8, 0.0f);
  BOOST_TEST(ternarize_absmean(zero) == 1e-5f);
  BOOST_TEST(zero == std::vector<float>(8, 0.0f), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
