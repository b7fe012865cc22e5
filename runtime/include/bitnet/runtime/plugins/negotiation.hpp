// The host's half of ABI negotiation: decides whether a plugin's answer is acceptable and, when
// not, says why in words a user can act on.
#pragma once

#include <bitnet/abi.h>
#include <bitnet/runtime/error.hpp>

#include <span>
#include <string>

namespace bitnet::plugins {

std::string to_string(bitnet_abi_version v);

// Checks the version a plugin chose against the versions the host offered and the version the
// plugin says it was built against. Returns the version both sides use.
Result<bitnet_abi_version> accept_version(std::span<const bitnet_abi_version> offered,
                                          bitnet_abi_version built, bitnet_abi_version chosen);

}  // namespace bitnet::plugins
