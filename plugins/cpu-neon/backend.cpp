#include "backend.hpp"

#include "../cpu-generic/host_backend.hpp"
#include "cpu_features.hpp"
#include "matmul.hpp"

namespace bitnet::cpu_neon {
namespace {

// cpu-generic's host backend with this plugin's matmuls; the int8 kernels are chosen once, from
// what the CPU reports, and the device name says which (the qemu tests check it).
class NeonBackend final : public cpu_generic::KernelBackend {
 public:
  explicit NeonBackend(bool sdot)
      : KernelBackend(sdot ? "host CPU (NEON, SDOT)" : "host CPU (NEON, no SDOT)"),
        kernels_(sdot ? sdot_kernels() : plain_kernels()) {}

 protected:
  void mul_mat(const bitnet_tensor& node) override { cpu_neon::mul_mat(node, kernels_); }

 private:
  const QuantKernels& kernels_;
};

}  // namespace

std::unique_ptr<sdk::Backend> Factory::create(int device) {
  if (device != 0) throw sdk::Error(BITNET_STATUS_NOT_FOUND, "cpu-neon has only device 0");
  return std::make_unique<NeonBackend>(detect_cpu().dotprod);
}

}  // namespace bitnet::cpu_neon
