#include "backend.hpp"

#include "../cpu-generic/host_backend.hpp"
#include "attention.hpp"
#include "matmul.hpp"

namespace bitnet::cpu_avx2 {
namespace {

// cpu-generic's host backend with this plugin's matmuls and attention.
class Avx2Backend final : public cpu_generic::HostBackend {
 public:
  Avx2Backend() : HostBackend(BITNET_CPU_AVX512 ? "host CPU (AVX-512 VNNI)" : "host CPU (AVX2)") {}

 protected:
  void compute_node(const bitnet_tensor& node) override {
    if (node.op != BITNET_OP_MUL_MAT && node.op != BITNET_OP_ATTENTION)
      return HostBackend::compute_node(node);
    sdk::check_tensor(node);
    for (const bitnet_tensor* s : node.src)
      if (s) sdk::check_tensor(*s);
    if (node.op == BITNET_OP_MUL_MAT) return mul_mat(node);
    attention(node);
  }
};

}  // namespace

std::unique_ptr<sdk::Backend> Factory::create(int device) {
  if (device != 0) throw sdk::Error(BITNET_STATUS_NOT_FOUND, "this CPU backend has only device 0");
  return std::make_unique<Avx2Backend>();
}

}  // namespace bitnet::cpu_avx2
