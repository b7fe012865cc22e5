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

// A host backend with kernels of its own for MUL_MAT (required), ATTENTION and the row-wise ops
// of elementwise.cpp (optional; cpu-generic's by default), the ops whose speed hinges on the ISA
// (cpu-avx2, cpu-neon): the node and its sources are checked against their buffers before a
// kernel reads them, as cpu-generic's ops check theirs; GET_ROWS and ROPE are cpu-generic's.
class KernelBackend : public HostBackend {
 public:
  using HostBackend::HostBackend;

 protected:
  virtual void mul_mat(const bitnet_tensor& node) = 0;
  virtual void attention(const bitnet_tensor& node);
  // ADD, MUL, SCALE, GLU, CPY and RMS_NORM.
  virtual void elementwise(const bitnet_tensor& node);

 private:
  void compute_node(const bitnet_tensor& node) final;
};

}  // namespace bitnet::cpu_generic
