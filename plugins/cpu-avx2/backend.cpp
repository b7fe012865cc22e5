#include "backend.hpp"

#include "../cpu-generic/host_backend.hpp"
#include "attention.hpp"
#include "matmul.hpp"
#include "row_ops.hpp"

namespace bitnet::cpu_avx2 {
namespace {

// cpu-generic's host backend with this plugin's matmuls, attention and row-wise ops.
class Avx2Backend final : public cpu_generic::KernelBackend {
 public:
  Avx2Backend()
      : KernelBackend(BITNET_CPU_AVX512 ? "host CPU (AVX-512 VNNI)" : "host CPU (AVX2)") {}

 protected:
  void mul_mat(const bitnet_tensor& node) override { cpu_avx2::mul_mat(node); }
  void attention(const bitnet_tensor& node) override { cpu_avx2::attention(node); }
  void elementwise(const bitnet_tensor& node) override {
    switch (node.op) {
      case BITNET_OP_ADD:
        return binary(node, true);
      case BITNET_OP_MUL:
        return binary(node, false);
      case BITNET_OP_SCALE:
        return scale(node);
      case BITNET_OP_GLU:
        return glu(node);
      case BITNET_OP_CPY:
        return cpy(node);
      case BITNET_OP_RMS_NORM:
        return rms_norm(node);
    }
  }
};

}  // namespace

std::unique_ptr<sdk::Backend> Factory::create(int device) {
  if (device != 0) throw sdk::Error(BITNET_STATUS_NOT_FOUND, "this CPU backend has only device 0");
  return std::make_unique<Avx2Backend>();
}

}  // namespace bitnet::cpu_avx2
