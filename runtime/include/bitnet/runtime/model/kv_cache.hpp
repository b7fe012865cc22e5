// The attention keys and values of every layer for up to n_ctx positions, in one backend
// buffer: per layer a K block then a V block, each [head_dim, kv_heads, n_ctx] in F32.
#pragma once

#include <bitnet/runtime/backend/backend.hpp>
#include <bitnet/runtime/model/architecture.hpp>

#include <cstdint>

namespace bitnet::model {

class KvCache {
 public:
  static Result<KvCache> create(Backend& backend, const Hparams& h, int64_t n_ctx);
  // Bytes a cache of n_ctx positions takes, so callers can say so before allocating.
  static uint64_t bytes_needed(const Hparams& h, int64_t n_ctx);

  bitnet_buffer* buffer() const { return buffer_.raw(); }
  int64_t n_ctx() const { return n_ctx_; }
  int32_t type() const { return BITNET_TYPE_F32; }
  size_t row_bytes() const { return row_bytes_; }  // one position of one layer's K (or V)
  size_t k_offset(int64_t layer) const { return 2 * layer * block(); }
  size_t v_offset(int64_t layer) const { return k_offset(layer) + block(); }
  size_t bytes() const { return buffer_.size(); }

 private:
  KvCache() = default;
  size_t block() const { return row_bytes_ * static_cast<size_t>(n_ctx_); }
  BackendBuffer buffer_;
  int64_t n_ctx_ = 0;
  size_t row_bytes_ = 0;
};

}  // namespace bitnet::model
