// Picks the next token from logits: repetition penalty, then top-k, top-p and min-p filters on
// the model's distribution, then temperature and a draw from a seeded generator. The same seed
// and logits give the same token on every machine (no std:: distributions, whose output is
// implementation-defined).
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace bitnet::generate {

struct SamplingParams {
  bool greedy = false;  // argmax; also when temperature <= 0
  float temperature = 0.8f;
  int32_t top_k = 40;           // 0: off
  float top_p = 0.95f;          // 1: off
  float min_p = 0.05f;          // 0: off; keeps p >= min_p * p_max
  float repeat_penalty = 1.0f;  // 1: off; > 1 discourages the last repeat_last_n tokens
  int32_t repeat_last_n = 64;
  uint64_t seed = 0;
};

// "" when the parameters make sense, else what is wrong (for a usage error).
std::string check_sampling(const SamplingParams& p);

class Sampler {
 public:
  explicit Sampler(const SamplingParams& p) : p_(p), rng_(p.seed) {}
  // `logits` must not be empty. `history`: the tokens so far (prompt and generated), for the
  // repetition penalty.
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history);

 private:
  double uniform();  // [0, 1) from the generator's top 53 bits
  SamplingParams p_;
  std::mt19937_64 rng_;
  std::vector<float> work_;
};

}  // namespace bitnet::generate
