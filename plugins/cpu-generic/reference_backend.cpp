#include "reference_backend.hpp"

#include "host_backend.hpp"

namespace bitnet::cpu_generic {

std::unique_ptr<sdk::Backend> Factory::create(int device) {
  if (device != 0) throw sdk::Error(BITNET_STATUS_NOT_FOUND, "cpu-generic has only device 0");
  return std::make_unique<HostBackend>("host CPU (portable reference code)");
}

}  // namespace bitnet::cpu_generic
