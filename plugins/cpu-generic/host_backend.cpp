#include "host_backend.hpp"

#include <sys/sysinfo.h>

#include <string>

#include "ops.hpp"
#include "ops_impl.hpp"

namespace bitnet::cpu_generic {
namespace {

constexpr size_t kAlignment = 64;

}  // namespace

void HostBackend::props(bitnet_backend_props& out) {
  struct sysinfo info {};
  if (sysinfo(&info) == 0) {
    out.memory_total = static_cast<uint64_t>(info.totalram) * info.mem_unit;
    out.memory_free = static_cast<uint64_t>(info.freeram + info.bufferram) * info.mem_unit;
  }
  out.device_name = device_name_;
  out.alignment = kAlignment;
  out.host_memory = 1;
}

bool HostBackend::supports(const bitnet_tensor& node) {
  return check_op(node).empty();
}

std::unique_ptr<sdk::Buffer> HostBackend::alloc(size_t size) {
  return std::make_unique<sdk::HostBuffer>(size, kAlignment);
}

void HostBackend::compute(const bitnet_tensor* const* nodes, size_t n) {
  if (n && !nodes) throw sdk::Error(BITNET_STATUS_INVALID_ARGUMENT, "graph nodes are NULL");
  for (size_t i = 0; i < n; ++i) {
    const bitnet_tensor* node = nodes[i];
    if (!node) throw sdk::Error(BITNET_STATUS_INVALID_ARGUMENT, "graph node is NULL");
    if (std::string why = check_op(*node); !why.empty())
      throw sdk::Error(
          BITNET_STATUS_UNSUPPORTED,
          "node " + std::to_string(i) + " (" + (node->name ? node->name : "unnamed") + "): " + why);
    compute_node(*node);
  }
}

void HostBackend::compute_node(const bitnet_tensor& node) {
  compute_op(node);
}

void KernelBackend::attention(const bitnet_tensor& node) {
  cpu_generic::attention(node);
}

void KernelBackend::elementwise(const bitnet_tensor& node) {
  compute_op(node);
}

void KernelBackend::compute_node(const bitnet_tensor& node) {
  if (node.op == BITNET_OP_GET_ROWS || node.op == BITNET_OP_ROPE)
    return HostBackend::compute_node(node);
  sdk::check_tensor(node);
  for (const bitnet_tensor* s : node.src)
    if (s) sdk::check_tensor(*s);
  if (node.op == BITNET_OP_MUL_MAT) return mul_mat(node);
  if (node.op == BITNET_OP_ATTENTION) return attention(node);
  elementwise(node);
}

}  // namespace bitnet::cpu_generic
