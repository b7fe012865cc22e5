// Turns a plugin's bitnet_status into the runtime's Error and frees it through the same table.
#pragma once

#include <bitnet/runtime/error.hpp>

#include <string>
#include <string_view>

namespace bitnet {

// Api is any kind table (they all start with the three status entries). Takes ownership of s.
template <class Api>
Error take_status(const Api& api, bitnet_status* s, std::string_view context) {
  Error e{api.status_code(s), std::string(context)};
  const char* msg = api.status_message(s);
  e.message += ": ";
  e.message += msg && *msg ? msg : "(no message)";
  api.status_destroy(s);
  return e;
}

}  // namespace bitnet
