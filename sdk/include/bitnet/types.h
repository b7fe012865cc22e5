/* Tensor element types. The numbers are GGUF's (ggml_type), so a GGUF tensor's type field maps
 * to this enum unchanged. New types are appended, never renumbered. */
#ifndef BITNET_TYPES_H
#define BITNET_TYPES_H

#ifdef __cplusplus
extern "C" {
#endif

enum bitnet_type {
  BITNET_TYPE_F32 = 0,
  BITNET_TYPE_F16 = 1,
  BITNET_TYPE_Q4_0 = 2,
  BITNET_TYPE_Q4_1 = 3,
  BITNET_TYPE_Q5_0 = 6,
  BITNET_TYPE_Q5_1 = 7,
  BITNET_TYPE_Q8_0 = 8,
  BITNET_TYPE_Q8_1 = 9,
  BITNET_TYPE_Q2_K = 10,
  BITNET_TYPE_Q3_K = 11,
  BITNET_TYPE_Q4_K = 12,
  BITNET_TYPE_Q5_K = 13,
  BITNET_TYPE_Q6_K = 14,
  BITNET_TYPE_Q8_K = 15,
  BITNET_TYPE_I8 = 24,
  BITNET_TYPE_I16 = 25,
  BITNET_TYPE_I32 = 26,
  BITNET_TYPE_I64 = 27,
  BITNET_TYPE_F64 = 28,
  BITNET_TYPE_BF16 = 30,
  BITNET_TYPE_TQ1_0 = 34,
  BITNET_TYPE_TQ2_0 = 35,
  /* Microsoft bitnet.cpp: N elements take N/4 bytes of 2-bit codes (0, 1, 2 = -1, 0, +1), then
   * a 32-byte tail whose first 4 bytes hold the tensor's f32 scale. Blocks of 128 elements
   * take 32 bytes: byte j holds elements j, j+32, j+64, j+96 at bit shifts 6, 4, 2, 0. */
  BITNET_TYPE_I2_S = 36,
  BITNET_TYPE_COUNT = 37
};

#ifdef __cplusplus
}
#endif

#endif /* BITNET_TYPES_H */
