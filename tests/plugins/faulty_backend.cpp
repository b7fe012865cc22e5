// A backend for the diagnostics tests: cpu-generic's ops compiled in (as cpu-avx2 does), with
// one node's output made wrong on purpose so crossval, trace diff and verify can be shown to
// find it. BITNET_TEST_FAULT="<node name>=<fault>", read when the backend starts, says which:
//   scale      the output times 1.05 (a GLU or a norm slightly off)
//   nan        the output's first value NaN
//   rope-mode  a ROPE node rotating the other pairs (NORM for NEOX and back)
// Unset, the backend computes exactly what cpu-generic does.
#include <bitnet/sdk/backend.hpp>
#include <bitnet/sdk/plugin.hpp>

#include <cmath>
#include <cstdlib>
#include <string>

#include "host_backend.hpp"
#include "ops.hpp"
#include "tensor_access.hpp"

namespace {

namespace cg = bitnet::cpu_generic;

struct Fault {
  std::string node, kind;
};

Fault read_fault() {
  const char* env = std::getenv("BITNET_TEST_FAULT");
  const std::string spec = env ? env : "";
  const size_t eq = spec.find('=');
  if (eq == std::string::npos) return {};
  Fault f{spec.substr(0, eq), spec.substr(eq + 1)};
  if (f.kind != "scale" && f.kind != "nan" && f.kind != "rope-mode")
    throw bitnet::sdk::Error(BITNET_STATUS_INVALID_ARGUMENT,
                             "BITNET_TEST_FAULT: unknown fault '" + f.kind + "'");
  return f;
}

class FaultyBackend final : public cg::HostBackend {
 public:
  explicit FaultyBackend(Fault fault)
      : HostBackend("host CPU (cpu-generic with a fault injected)"), fault_(std::move(fault)) {}

 protected:
  void compute_node(const bitnet_tensor& node) override {
    if (!node.name || fault_.node != node.name) return cg::compute_op(node);
    if (fault_.kind == "rope-mode" && node.op == BITNET_OP_ROPE) {
      bitnet_tensor other = node;
      other.op_params[2] =
          cg::int_param(node, 2) == BITNET_ROPE_NEOX ? BITNET_ROPE_NORM : BITNET_ROPE_NEOX;
      return cg::compute_op(other);
    }
    cg::compute_op(node);
    for (int64_t r = 0; r < cg::rows(node); ++r) {
      int64_t i1, i2, i3;
      cg::unflatten(node, r, i1, i2, i3);
      float* row = cg::f32_row(node, i1, i2, i3);
      if (fault_.kind == "nan") {
        row[0] = NAN;
        break;
      }
      for (int64_t k = 0; k < node.ne[0]; ++k)
        row[k] *= 1.05f;
    }
  }

 private:
  Fault fault_;
};

struct Factory {
  static int device_count() { return 1; }
  static std::unique_ptr<bitnet::sdk::Backend> create(int) {
    return std::make_unique<FaultyBackend>(read_fault());
  }
};

bitnet::sdk::Score score() {
  return {1, "test backend"};
}

const void* init(const bitnet::sdk::Host&) {
  return bitnet::sdk::backend_api<Factory>();
}

constexpr bitnet::sdk::PluginDefinition kPlugin{
    bitnet::sdk::make_info("faulty", BITNET_PLUGIN_VERSION, BITNET_PLUGIN_KIND_BACKEND,
                           "cpu-generic with one node made wrong (BITNET_TEST_FAULT)"),
    &score, &init};

}  // namespace

BITNET_SDK_EXPORT_PLUGIN(kPlugin)
