#include "backend.hpp"

#include <sys/sysinfo.h>

#include "../cpu-generic/ops.hpp"
#include "matmul.hpp"

namespace bitnet::cpu_avx2 {
namespace {

constexpr size_t kAlignment = 64;

class Avx2Backend final : public sdk::Backend {
 public:
  void props(bitnet_backend_props& out) override {
    struct sysinfo info {};
    if (sysinfo(&info) == 0) {
      out.memory_total = static_cast<uint64_t>(info.totalram) * info.mem_unit;
      out.memory_free = static_cast<uint64_t>(info.freeram + info.bufferram) * info.mem_unit;
    }
    out.device_name = BITNET_CPU_AVX512 ? "host CPU (AVX-512 VNNI)" : "host CPU (AVX2)";
    out.alignment = kAlignment;
    out.host_memory = 1;
  }

  bool supports(const bitnet_tensor& node) override { return cpu_generic::check_op(node).empty(); }

  std::unique_ptr<sdk::Buffer> alloc(size_t size) override {
    return std::make_unique<sdk::HostBuffer>(size, kAlignment);
  }

  void compute(const bitnet_tensor* const* nodes, size_t n) override {
    if (n && !nodes) throw sdk::Error(BITNET_STATUS_INVALID_ARGUMENT, "graph nodes are NULL");
    for (size_t i = 0; i < n; ++i) {
      const bitnet_tensor* node = nodes[i];
      if (!node) throw sdk::Error(BITNET_STATUS_INVALID_ARGUMENT, "graph node is NULL");
      if (std::string why = cpu_generic::check_op(*node); !why.empty())
        throw sdk::Error(BITNET_STATUS_UNSUPPORTED, "node " + std::to_string(i) + " (" +
                                                        (node->name ? node->name : "unnamed") +
                                                        "): " + why);
      if (node->op == BITNET_OP_MUL_MAT && has_fast_matmul(node->src[0]->type)) {
        sdk::check_tensor(*node);
        sdk::check_tensor(*node->src[0]);
        sdk::check_tensor(*node->src[1]);
        mul_mat(*node);
      } else {
        cpu_generic::compute_op(*node);
      }
    }
  }
};

}  // namespace

std::unique_ptr<sdk::Backend> Factory::create(int device) {
  if (device != 0) throw sdk::Error(BITNET_STATUS_NOT_FOUND, "this CPU backend has only device 0");
  return std::make_unique<Avx2Backend>();
}

}  // namespace bitnet::cpu_avx2
