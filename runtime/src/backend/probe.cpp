#include <bitnet/runtime/backend/probe.hpp>
#include <bitnet/sdk/types.hpp>

namespace bitnet {

bitnet_tensor contiguous_tensor(int32_t type, std::initializer_list<int64_t> ne) {
  bitnet_tensor t{};
  t.struct_size = sizeof(t);
  t.type = type;
  int i = 0;
  for (int64_t n : ne)
    t.ne[i++] = n;
  for (; i < BITNET_MAX_DIMS; ++i)
    t.ne[i] = 1;
  t.nb[0] = sdk::type_traits(type)->block_bytes;
  t.nb[1] = sdk::row_bytes(type, t.ne[0]).value_or(0);
  for (int d = 2; d < BITNET_MAX_DIMS; ++d)
    t.nb[d] = t.nb[d - 1] * static_cast<size_t>(t.ne[d - 1]);
  return t;
}

// 256 elements per row is a whole number of blocks of every type; heads of 64 fit every rope.
Probe::Probe(int32_t op, int32_t type) {
  constexpr int32_t f32 = BITNET_TYPE_F32, i32 = BITNET_TYPE_I32;
  for (bitnet_tensor& l : leaves)
    l = contiguous_tensor(f32, {1});
  leaves[0] = contiguous_tensor(type, {256, 4});
  node = contiguous_tensor(f32, {256, 4});
  int n_src = 1;
  switch (op) {
    case BITNET_OP_ADD:
    case BITNET_OP_MUL:
      leaves[1] = contiguous_tensor(f32, {256, 1});
      n_src = 2;
      break;
    case BITNET_OP_SCALE:
      node.op_params[0] = 1.0f;
      break;
    case BITNET_OP_MUL_MAT:
      leaves[1] = contiguous_tensor(f32, {256, 2});
      node = contiguous_tensor(f32, {4, 2});
      n_src = 2;
      break;
    case BITNET_OP_GET_ROWS:
      leaves[1] = contiguous_tensor(i32, {2});
      node = contiguous_tensor(f32, {256, 2});
      n_src = 2;
      break;
    case BITNET_OP_RMS_NORM:
      node.op_params[0] = 1e-5f;
      break;
    case BITNET_OP_ROPE:
      leaves[0] = contiguous_tensor(type, {64, 4, 2});
      leaves[1] = contiguous_tensor(i32, {2});
      node = contiguous_tensor(f32, {64, 4, 2});
      node.op_params[0] = 64;
      node.op_params[1] = 10000;
      node.op_params[2] = BITNET_ROPE_NORM;
      n_src = 2;
      break;
    case BITNET_OP_ATTENTION:
      leaves[0] = contiguous_tensor(type, {64, 4, 2});
      leaves[1] = leaves[2] = contiguous_tensor(f32, {64, 2, 8});
      leaves[3] = contiguous_tensor(i32, {2});
      node = contiguous_tensor(f32, {64, 4, 2});
      node.op_params[0] = 0.125f;
      n_src = 4;
      break;
    case BITNET_OP_GLU:
      leaves[1] = contiguous_tensor(f32, {256, 4});
      node.op_params[0] = BITNET_GLU_SILU;
      n_src = 2;
      break;
    case BITNET_OP_CPY:
      leaves[0] = contiguous_tensor(f32, {256, 4});
      node = contiguous_tensor(type, {256, 4});
      break;
  }
  node.op = op;
  for (int i = 0; i < n_src; ++i)
    node.src[i] = &leaves[i];
}

}  // namespace bitnet
