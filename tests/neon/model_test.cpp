// Whole-model greedy parity on arm64: generated models of the four architectures, for each
// projection type, run on cpu-generic and cpu-neon; teacher-forced on cpu-generic's choice,
// cpu-neon must pick the same next token wherever that choice is not a near tie. Bounds shared
// with backend_conformance's model test (tests/support/op_case.hpp).
#include <bitnet/sdk/types.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>

#include "model_graph.hpp"
#include "op_case.hpp"
#include "plugin_loader.hpp"

using namespace neon_test;

namespace {

int32_t pick(const std::vector<float>& v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(model)

BOOST_AUTO_TEST_CASE(generated_models_pick_cpu_generic_greedy_tokens) {
  Device generic(plugin("cpu-generic")), neon(plugin("cpu-neon"));
  const Hparams h;
  for (const Arch& arch : kArchs)
    for (int32_t type : {BITNET_TYPE_F16, BITNET_TYPE_Q8_0, BITNET_TYPE_Q4_0, BITNET_TYPE_Q4_K,
                         BITNET_TYPE_Q6_K, BITNET_TYPE_I2_S, BITNET_TYPE_TQ2_0}) {
      BOOST_TEST_CONTEXT(arch.name << " " << bitnet::sdk::type_name(type)) {
        const auto weights = random_model(arch, h, type, 5);
        Runner ref(generic, arch, h, weights), cand(neon, arch, h, weights);
        // A prompt of 6, then 10 teacher-forced steps on the reference's choice.
        const std::vector<int32_t> prompt = {1, 7, 42, 19, 5, 17};
        std::vector<float> rl = ref.eval(prompt), cl = cand.eval(prompt);
        int compared = 0;
        double worst = 0;
        for (int step = 0; step < 10; ++step) {
          std::vector<float> sorted = rl;
          std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<>());
          double scale = 0, diff = 0;
          for (size_t i = 0; i < rl.size(); ++i) {
            scale = std::max(scale, std::abs(double{rl[i]}));
            diff = std::max(diff, std::abs(double{rl[i]} - cl[i]));
          }
          worst = std::max(worst, diff / scale);
          const int32_t next = pick(rl);
          // Where the two best are further apart than twice the allowed error, the candidate
          // must pick the same token.
          if (sorted[0] - sorted[1] > 2 * bitnet_test::model_bound(type) * scale) {
            BOOST_TEST(pick(cl) == next, "step " << step);
            ++compared;
          }
          rl = ref.eval({&next, 1});
          cl = cand.eval({&next, 1});
        }
        BOOST_TEST_MESSAGE(arch.name << " " << bitnet::sdk::type_name(type)
                                     << ": max relative logit difference " << worst << ", "
                                     << compared << " of 10 steps decided");
        BOOST_TEST(worst <= bitnet_test::model_bound(type));
        BOOST_TEST(compared >= (bitnet_test::model_bound(type) > 1e-3 ? 2 : 8));
      }
    }
}

BOOST_AUTO_TEST_SUITE_END()
