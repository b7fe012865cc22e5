#include <bitnet/runtime/generate/sampler.hpp>

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace gen = bitnet::generate;

namespace {

// Every filter off, so draws follow softmax(logits / temperature) exactly.
gen::SamplingParams plain(uint64_t seed = 1, float temperature = 1.0f) {
  gen::SamplingParams p;
  p.temperature = temperature;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = seed;
  return p;
}

std::vector<int> histogram(gen::SamplingParams p, const std::vector<float>& logits, int draws,
                           const std::vector<int32_t>& history = {}) {
  gen::Sampler s(p);
  std::vector<int> counts(logits.size());
  for (int i = 0; i < draws; ++i)
    ++counts.at(s.sample(logits, history));
  return counts;
}

// Logits whose softmax is exactly `probs`.
std::vector<float> logits_of(const std::vector<double>& probs) {
  std::vector<float> l;
  for (double q : probs)
    l.push_back(static_cast<float>(std::log(q)));
  return l;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sampler)

BOOST_AUTO_TEST_CASE(greedy_picks_argmax_and_lowest_id_on_ties) {
  gen::SamplingParams p;
  p.greedy = true;
  gen::Sampler s(p);
  BOOST_TEST(s.sample(std::vector<float>{1, 5, 3, 4, -2}, {}) == 1);
  BOOST_TEST(s.sample(std::vector<float>{1, 5, 3, 5, -2}, {}) == 1);
  BOOST_TEST(s.sample(std::vector<float>{-3, -1, -1}, {}) == 1);
  BOOST_TEST(s.sample(std::vector<float>{7, 7, 7}, {}) == 0);
}

BOOST_AUTO_TEST_CASE(temperature_zero_is_greedy) {
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 3.0f);
  gen::Sampler s(plain(99, 0.0f));
  for (int round = 0; round < 200; ++round) {
    std::vector<float> logits(50);
    for (float& x : logits)
      x = nd(rng);
    logits[round % 50] = logits[(round + 17) % 50] = 100.0f;  // a tie: the lower id wins
    BOOST_REQUIRE_EQUAL(s.sample(logits, {}), std::min(round % 50, (round + 17) % 50));
  }
}

BOOST_AUTO_TEST_CASE(top_k_one_is_greedy_for_any_seed) {
  std::vector<float> logits{0.5f, 2.0f, 1.99f, 2.0f, -1.0f};
  for (uint64_t seed = 0; seed < 64; ++seed) {
    auto p = plain(seed, 5.0f);  // a hot temperature would spread the draws if k leaked
    p.top_k = 1;
    gen::Sampler s(p);
    for (int i = 0; i < 20; ++i)
      BOOST_REQUIRE_EQUAL(s.sample(logits, {}), 1);
  }
}

BOOST_AUTO_TEST_CASE(top_k_keeps_only_the_k_most_likely) {
  auto p = plain();
  p.top_k = 2;
  auto c = histogram(p, {1.0f, 3.0f, 0.0f, 2.9f}, 4000);
  BOOST_TEST(c[0] == 0);
  BOOST_TEST(c[2] == 0);
  BOOST_TEST(c[1] > 1000);
  BOOST_TEST(c[3] > 1000);
}

BOOST_AUTO_TEST_CASE(same_seed_repeats_and_other_seeds_differ) {
  const std::vector<float> flat(32, 0.0f);
  gen::Sampler a(plain(42)), b(plain(42)), c(plain(43));
  int differ = 0;
  for (int i = 0; i < 1000; ++i) {
    const int32_t x = a.sample(flat, {});
    BOOST_REQUIRE_EQUAL(x, b.sample(flat, {}));
    differ += x != c.sample(flat, {});
  }
  // Independent streams agree about 1 time in 32.
  BOOST_TEST(differ > 900);
}

BOOST_AUTO_TEST_CASE(top_p_keeps_the_smallest_prefix_reaching_p) {
  auto p = plain();
  p.top_p = 0.01f;
  auto c = histogram(p, {0.0f, 1.0f, 2.0f, 3.0f}, 2000);
  BOOST_TEST(c[3] == 2000);

  // 0.5 < 0.7 <= 0.5 + 0.3: exactly the two most likely survive.
  p.top_p = 0.7f;
  c = histogram(p, logits_of({0.05, 0.5, 0.15, 0.3}), 4000);
  BOOST_TEST(c[0] == 0);
  BOOST_TEST(c[2] == 0);
  BOOST_TEST(c[1] > 1500);
  BOOST_TEST(c[3] > 800);
}

BOOST_AUTO_TEST_CASE(min_p_drops_tokens_below_fraction_of_max) {
  auto p = plain(5);
  p.min_p = 0.3f;  // cut at 0.12: 0.15 stays, 0.1 and 0.05 go
  auto c = histogram(p, logits_of({0.1, 0.4, 0.05, 0.3, 0.15}), 10000);
  BOOST_TEST(c[0] == 0);
  BOOST_TEST(c[2] == 0);
  BOOST_TEST(c[1] > 0);
  BOOST_TEST(c[3] > 0);
  BOOST_TEST(c[4] > 0);
}

BOOST_AUTO_TEST_CASE(repeat_penalty_divides_positive_and_multiplies_negative) {
  gen::SamplingParams p;
  p.greedy = true;
  p.repeat_penalty = 1.1f;
  gen::Sampler s(p);
  const std::vector<int32_t> seen0{0};
  BOOST_TEST(s.sample(std::vector<float>{2.0f, 1.9f, 0.5f}, {}) == 0);
  BOOST_TEST(s.sample(std::vector<float>{2.0f, 1.9f, 0.5f}, seen0) == 1);
  // Multiplying a positive logit or dividing a negative one would raise it and keep token 0.
  BOOST_TEST(s.sample(std::vector<float>{1.0f, 0.95f}, seen0) == 1);
  BOOST_TEST(s.sample(std::vector<float>{-1.0f, -1.05f, -3.0f}, seen0) == 1);
  // A token repeated in the history is penalised once, not once per occurrence.
  BOOST_TEST(s.sample(std::vector<float>{2.0f, 1.7f}, std::vector<int32_t>{0, 0, 0}) == 0);
  // Ids outside the vocabulary are ignored.
  BOOST_TEST(s.sample(std::vector<float>{2.0f, 1.9f}, std::vector<int32_t>{-1, 7, 1000}) == 0);
}

BOOST_AUTO_TEST_CASE(repeat_penalty_only_looks_at_last_n) {
  gen::SamplingParams p;
  p.greedy = true;
  p.repeat_penalty = 1.1f;
  p.repeat_last_n = 2;
  gen::Sampler s(p);
  const std::vector<float> logits{2.0f, 1.9f, 0.0f};
  BOOST_TEST(s.sample(logits, std::vector<int32_t>{0, 2, 2}) == 0);
  BOOST_TEST(s.sample(logits, std::vector<int32_t>{2, 0, 2}) == 1);
  p.repeat_last_n = 0;
  BOOST_TEST(gen::Sampler(p).sample(logits, std::vector<int32_t>{0}) == 0);
}

BOOST_AUTO_TEST_CASE(repeat_penalty_lowers_frequency_when_sampling) {
  auto p = plain(3);
  p.repeat_penalty = 2.0f;
  // Token 0's logit halves to 0.5: p0 = 1 / (1 + e^0.5) ~ 0.378.
  auto c = histogram(p, {1.0f, 1.0f}, 8000, {0});
  BOOST_TEST(c[0] / 8000.0 == 0.378, boost::test_tools::tolerance(0.05));
}

BOOST_AUTO_TEST_CASE(frequencies_match_softmax) {
  const std::vector<float> logits{0.0f, 0.5f, 1.0f, -1.0f, 2.0f, 0.3f};
  for (float temperature : {1.0f, 2.0f, 0.5f}) {
    const int draws = 20000;
    auto c = histogram(plain(11, temperature), logits, draws);
    double z = 0;
    for (float l : logits)
      z += std::exp(l / temperature);
    double chi2 = 0;
    for (size_t i = 0; i < logits.size(); ++i) {
      const double expected = draws * std::exp(logits[i] / temperature) / z;
      chi2 += (c[i] - expected) * (c[i] - expected) / expected;
    }
    // 5 degrees of freedom: P(chi2 > 20.5) = 0.001 for a correct sampler.
    BOOST_TEST_CONTEXT("temperature " << temperature) {
      BOOST_TEST(chi2 < 20.5);
    }
  }
}

BOOST_AUTO_TEST_CASE(check_sampling_validates_ranges) {
  BOOST_TEST(gen::check_sampling({}).empty());
  auto bad = [](auto edit) {
    gen::SamplingParams p;
    edit(p);
    return !gen::check_sampling(p).empty();
  };
  BOOST_TEST(bad([](auto& p) { p.temperature = -0.1f; }));
  BOOST_TEST(bad([](auto& p) { p.temperature = std::numeric_limits<float>::quiet_NaN(); }));
  BOOST_TEST(bad([](auto& p) { p.top_p = 0.0f; }));
  BOOST_TEST(bad([](auto& p) { p.top_p = 1.01f; }));
  BOOST_TEST(bad([](auto& p) { p.min_p = 1.01f; }));
  BOOST_TEST(bad([](auto& p) { p.min_p = -0.01f; }));
  BOOST_TEST(bad([](auto& p) { p.repeat_penalty = 0.0f; }));
  BOOST_TEST(bad([](auto& p) { p.top_k = -1; }));
  BOOST_TEST(bad([](auto& p) { p.repeat_last_n = -1; }));
  // The edges of each range are legal.
  BOOST_TEST(!bad([](auto& p) { p.temperature = 0.0f; }));
  BOOST_TEST(!bad([](auto& p) { p.top_p = 1.0f; }));
  BOOST_TEST(!bad([](auto& p) { p.min_p = 1.0f; }));
  BOOST_TEST(!bad([](auto& p) { p.top_k = 0; }));
}

BOOST_AUTO_TEST_SUITE_END()
