// What every CPU backend built on cpu-generic's code shares: buffers in host RAM, the device's
// memory from sysinfo, supports_op answered by check_op, and a compute loop that validates each
// node and hands it to compute_node, which a faster backend overrides for the ops it speeds up.
#pragma once

#include <bitnet/sdk/backend.hpp>

#include <memory>

namespace bitnet::cpu_generic {

class HostBackend : public sdk::Backend {
 public:
  explicit HostBackend(const char* device_name) : device_name_(device_name) {}

  void props(bitnet_backend_props& out) override;
  bool supports(const bitnet_tensor& node) override;
  std::unique_ptr<sdk::Buffer> alloc(size_t size) override;
  void compute(const bitnet_tensor* const* nodes, size_t n) override;

 protected:
  // Computes one node that check_op accepted; cpu-generic's reference by default.
  virtual void compute_node(const bitnet_tensor& node);

 private:
  const char* device_name_;
};

// A host backend with a kernel of its own for MUL_MAT alone (cpu-avx2, cpu-neon): the node and
// both sources are checked against their buffers before mul_mat reads them, as cpu-generic's
// ops check theirs; every other op is cpu-generic's.
class MatmulBackend : public HostBackend {
 public:
  using HostBackend::HostBackend;

 protected:
  virtual void mul_mat(const bitnet_tensor& node) = 0;

 private:
  void compute_node(const bitnet_tensor& node) final;
};

}  // namespace bitnet::cpu_generic
