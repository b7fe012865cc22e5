// Names of the graph operations, for messages and listings on both sides of the ABI.
#pragma once

#include <bitnet/backend.h>

#include <string_view>

namespace bitnet::sdk {

inline constexpr std::string_view op_name(int32_t op) {
  switch (op) {
    case BITNET_OP_NONE:
      return "NONE";
    case BITNET_OP_ADD:
      return "ADD";
    case BITNET_OP_MUL:
      return "MUL";
    case BITNET_OP_SCALE:
      return "SCALE";
    case BITNET_OP_MUL_MAT:
      return "MUL_MAT";
    case BITNET_OP_GET_ROWS:
      return "GET_ROWS";
    case BITNET_OP_RMS_NORM:
      return "RMS_NORM";
    case BITNET_OP_ROPE:
      return "ROPE";
    case BITNET_OP_ATTENTION:
      return "ATTENTION";
    case BITNET_OP_GLU:
      return "GLU";
    case BITNET_OP_CPY:
      return "CPY";
    default:
      return "unknown";
  }
}

}  // namespace bitnet::sdk
