// MUL_MAT of I2_S and TQ2_0 weights against several activation rows (prefill) on cpu-avx512:
// activations quantised and interleaved once (ternary_acts.hpp), weight rows split over the
// host's threads in panels of kPanelRows, each panel packed once and run against every group
// of activation rows (i2s_vnni.hpp, tq2_vnni.hpp).
#pragma once

#include <bitnet/backend.h>

namespace bitnet::cpu_avx2 {

// Precondition: cpu_generic::check_mul_mat(dst) is "", the weights are I2_S or TQ2_0.
void ternary_prefill(const bitnet_tensor& dst);

}  // namespace bitnet::cpu_avx2
