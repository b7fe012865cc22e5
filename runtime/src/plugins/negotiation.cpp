#include <bitnet/runtime/plugins/negotiation.hpp>

namespace bitnet::plugins {

std::string to_string(bitnet_abi_version v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor);
}

Result<bitnet_abi_version> accept_version(std::span<const bitnet_abi_version> offered,
                                          bitnet_abi_version built, bitnet_abi_version chosen) {
  std::string host;
  for (const auto& o : offered) {
    if (!host.empty()) host += ", ";
    host += to_string(o);
    if (o.major == chosen.major && chosen.major == built.major && chosen.minor <= o.minor &&
        chosen.minor <= built.minor)
      return chosen;
  }
  if (chosen.major == 0 && chosen.minor == 0)
    return make_error(BITNET_STATUS_UNSUPPORTED,
                      "built for ABI " + to_string(built) + " but this host speaks ABI " + host +
                          " (the major version must match); rebuild the plugin against this "
                          "bitnet SDK or install a bitnet release of ABI major " +
                          std::to_string(built.major));
  return make_error(BITNET_STATUS_UNSUPPORTED, "answered ABI " + to_string(chosen) +
                                                   ", which the host did not offer (host: " + host +
                                                   ", plugin built for " + to_string(built) +
                                                   "); the plugin's negotiate entry is broken");
}

}  // namespace bitnet::plugins
