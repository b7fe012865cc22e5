// The op files' entry points: check_<op> says why a node cannot be computed ("" when it can),
// <op> computes it. ops.cpp dispatches to them.
#pragma once

#include <bitnet/backend.h>

#include <string>

namespace bitnet::cpu_generic {

std::string check_binary(const bitnet_tensor& node);  // ADD, MUL
std::string check_unary(const bitnet_tensor& node);   // SCALE
std::string check_glu(const bitnet_tensor& node);
std::string check_cpy(const bitnet_tensor& node);
std::string check_rms_norm(const bitnet_tensor& node);
std::string check_mul_mat(const bitnet_tensor& node);
std::string check_get_rows(const bitnet_tensor& node);
std::string check_rope(const bitnet_tensor& node);
std::string check_attention(const bitnet_tensor& node);

void binary(const bitnet_tensor& dst, bool add);
void scale(const bitnet_tensor& dst);
void glu(const bitnet_tensor& dst);
void cpy(const bitnet_tensor& dst);
void rms_norm(const bitnet_tensor& dst);
void mul_mat(const bitnet_tensor& dst);
void get_rows(const bitnet_tensor& dst);
void rope(const bitnet_tensor& dst);
void attention(const bitnet_tensor& dst);

}  // namespace bitnet::cpu_generic
