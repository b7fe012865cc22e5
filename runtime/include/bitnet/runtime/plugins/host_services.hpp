// The bitnet_host_services table lent to each plugin: logging tagged with the plugin's name,
// the process thread pool, and the HTTPS client (net/download.hpp).
#pragma once

#include <bitnet/abi.h>

#include <string>

namespace bitnet::plugins {

// A table for the plugin called `name`. It lives until the process exits, as the ABI promises.
const bitnet_host_services* host_services_for(const std::string& name);

}  // namespace bitnet::plugins
