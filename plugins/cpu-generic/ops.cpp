#include "ops.hpp"

#include <bitnet/sdk/backend.hpp>
#include <bitnet/sdk/ops.hpp>

#include "ops_impl.hpp"

namespace bitnet::cpu_generic {
namespace {

// How many sources each op reads; optional ones (RMS_NORM's weight) are counted as needed.
int required_sources(int32_t op) {
  switch (op) {
    case BITNET_OP_SCALE:
    case BITNET_OP_RMS_NORM:
    case BITNET_OP_CPY:
      return 1;
    case BITNET_OP_ATTENTION:
      return 4;
    default:
      return 2;
  }
}

bool positive_dims(const bitnet_tensor* t) {
  for (int i = 0; i < BITNET_MAX_DIMS; ++i)
    if (t->ne[i] < 1) return false;
  return true;
}

}  // namespace

std::string check_op(const bitnet_tensor& node) {
  if (node.op <= BITNET_OP_NONE || node.op >= BITNET_OP_COUNT)
    return "op " + std::to_string(node.op) + " is not implemented";
  for (int i = 0; i < required_sources(node.op); ++i)
    if (!node.src[i]) return "source " + std::to_string(i) + " is missing";
  if (!positive_dims(&node)) return "a dimension is smaller than 1";
  for (const bitnet_tensor* s : node.src)
    if (s && !positive_dims(s)) return "a dimension is smaller than 1";
  switch (node.op) {
    case BITNET_OP_ADD:
    case BITNET_OP_MUL:
      return check_binary(node);
    case BITNET_OP_SCALE:
      return check_unary(node);
    case BITNET_OP_MUL_MAT:
      return check_mul_mat(node);
    case BITNET_OP_GET_ROWS:
      return check_get_rows(node);
    case BITNET_OP_RMS_NORM:
      return check_rms_norm(node);
    case BITNET_OP_ROPE:
      return check_rope(node);
    case BITNET_OP_ATTENTION:
      return check_attention(node);
    case BITNET_OP_GLU:
      return check_glu(node);
    case BITNET_OP_CPY:
      return check_cpy(node);
  }
  return "op " + std::string(sdk::op_name(node.op)) + " is not implemented";
}

void compute_op(const bitnet_tensor& node) {
  sdk::check_tensor(node);
  for (const bitnet_tensor* s : node.src)
    if (s) sdk::check_tensor(*s);
  switch (node.op) {
    case BITNET_OP_ADD:
      return binary(node, true);
    case BITNET_OP_MUL:
      return binary(node, false);
    case BITNET_OP_SCALE:
      return scale(node);
    case BITNET_OP_MUL_MAT:
      return mul_mat(node);
    case BITNET_OP_GET_ROWS:
      return get_rows(node);
    case BITNET_OP_RMS_NORM:
      return rms_norm(node);
    case BITNET_OP_ROPE:
      return rope(node);
    case BITNET_OP_ATTENTION:
      return attention(node);
    case BITNET_OP_GLU:
      return glu(node);
    case BITNET_OP_CPY:
      return cpy(node);
  }
}

}  // namespace bitnet::cpu_generic
