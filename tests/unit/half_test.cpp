// float <-> IEEE half and bfloat16: exact round trips and round-to-nearest-even, checked against
// the compiler's own _Float16 conversion where it has one.
#include <bitnet/sdk/half.hpp>

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <random>

using namespace bitnet::sdk;

BOOST_AUTO_TEST_SUITE(half)

BOOST_AUTO_TEST_CASE(every_half_round_trips) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = fp16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      BOOST_TEST(std::isnan(fp16_to_f32(f32_to_fp16(f))));
      continue;
    }
    BOOST_TEST_REQUIRE(f32_to_fp16(f) == h, "half 0x" << std::hex << h);
  }
}

BOOST_AUTO_TEST_CASE(half_rounds_to_nearest_even) {
  BOOST_TEST(f32_to_fp16(1.0f + 0x1p-11f) == 0x3c00);      // tie: down to even
  BOOST_TEST(f32_to_fp16(1.0f + 3 * 0x1p-11f) == 0x3c02);  // tie: up to even
  BOOST_TEST(f32_to_fp16(65504.0f) == 0x7bff);             // largest half
  BOOST_TEST(f32_to_fp16(65520.0f) == 0x7c00);             // rounds past it: inf
  BOOST_TEST(f32_to_fp16(-1e9f) == 0xfc00);
  BOOST_TEST(f32_to_fp16(0x1p-25f) == 0x0000);         // tie below the smallest
  BOOST_TEST(f32_to_fp16(0x1p-24f * 1.5f) == 0x0002);  // subnormal tie to even
  BOOST_TEST(f32_to_fp16(std::numeric_limits<float>::infinity()) == 0x7c00);
#if defined(__FLT16_MAX__)
  std::mt19937 rng(7);
  for (int i = 0; i < 2'000'000; ++i) {
    const uint32_t bits = rng();
    float f;
    std::memcpy(&f, &bits, sizeof f);
    if (std::isnan(f)) continue;
    const _Float16 ref = static_cast<_Float16>(f);
    uint16_t ref_bits;
    std::memcpy(&ref_bits, &ref, sizeof ref_bits);
    BOOST_TEST_REQUIRE(f32_to_fp16(f) == ref_bits, "float " << f);
  }
#endif
}

BOOST_AUTO_TEST_CASE(bfloat16_rounds_to_nearest_even) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = bf16_to_f32(static_cast<uint16_t>(h));
    if (!std::isnan(f)) BOOST_TEST_REQUIRE(f32_to_bf16(f) == h);
  }
  BOOST_TEST(f32_to_bf16(1.0f + 0x1p-8f) == 0x3f80);      // tie: down to even
  BOOST_TEST(f32_to_bf16(1.0f + 3 * 0x1p-8f) == 0x3f82);  // tie: up to even
  BOOST_TEST(std::isnan(bf16_to_f32(f32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
}

BOOST_AUTO_TEST_SUITE_END()
