#include <bitnet/runtime/model/kv_cache.hpp>

namespace bitnet::model {

uint64_t KvCache::bytes_needed(const Hparams& h, int64_t n_ctx) {
  return 2ull * static_cast<uint64_t>(h.n_layer) * static_cast<uint64_t>(n_ctx) *
         static_cast<uint64_t>(h.n_head_kv * h.head_dim) * sizeof(float);
}

Result<KvCache> KvCache::create(Backend& backend, const Hparams& h, int64_t n_ctx) {
  KvCache c;
  c.n_ctx_ = n_ctx;
  c.row_bytes_ = static_cast<size_t>(h.n_head_kv * h.head_dim) * sizeof(float);
  Result<BackendBuffer> b = backend.alloc(bytes_needed(h, n_ctx));
  if (!b)
    return make_error(b.error().code, "the KV cache for " + std::to_string(n_ctx) + " positions: " +
                                          b.error().message + "; a smaller --ctx needs less");
  c.buffer_ = std::move(*b);
  return c;
}

}  // namespace bitnet::model
