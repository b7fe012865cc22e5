#include <bitnet/runtime/model/weights.hpp>
#include <bitnet/sdk/types.hpp>

#include <algorithm>

namespace bitnet::model {
namespace {
constexpr size_t kUploadChunk = size_t{32} << 20;
}  // namespace

Result<Weights> Weights::upload(const gguf::Reader& reader, Backend& backend) {
  Result<BackendProps> props = backend.props();
  if (!props) return props.error();
  const size_t align = std::max<size_t>(props->alignment, 1);
  std::vector<size_t> offsets;
  size_t total = 0;
  for (const gguf::TensorInfo& t : reader.tensors()) {
    total = (total + align - 1) / align * align;
    offsets.push_back(total);
    total += t.bytes;
  }
  Weights w;
  Result<BackendBuffer> buffer = backend.alloc(std::max<size_t>(total, 1));
  if (!buffer) return buffer.error();
  w.buffer_ = std::move(*buffer);
  for (size_t i = 0; i < reader.tensors().size(); ++i) {
    const gguf::TensorInfo& info = reader.tensors()[i];
    const std::span<const std::byte> data = reader.data(info);
    // In chunks, each released from the file mapping once copied: a whole large tensor (a
    // 128k-token embedding is 0.6 GB) would otherwise be resident twice at the peak.
    for (size_t at = 0; at < data.size(); at += kUploadChunk) {
      const std::span<const std::byte> chunk =
          data.subspan(at, std::min(kUploadChunk, data.size() - at));
      if (Result<> r = w.buffer_.upload(offsets[i] + at, chunk.data(), chunk.size()); !r)
        return make_error(r.error().code,
                          "uploading tensor '" + info.name + "': " + r.error().message);
      reader.release(chunk);
    }
    bitnet_tensor& t = w.tensors_.emplace_back();
    t.struct_size = sizeof(t);
    t.type = info.type;
    std::copy(info.ne.begin(), info.ne.end(), t.ne);
    t.nb[0] = sdk::type_traits(info.type)->block_bytes;
    t.nb[1] = *sdk::row_bytes(info.type, info.ne[0]);
    for (int d = 2; d < BITNET_MAX_DIMS; ++d)
      t.nb[d] = t.nb[d - 1] * static_cast<size_t>(t.ne[d - 1]);
    t.buffer = w.buffer_.raw();
    t.offset = offsets[i];
    t.name = w.names_.emplace_back(info.name).c_str();
    w.by_name_.emplace(w.names_.back(), &t);
  }
  return w;
}

const bitnet_tensor* Weights::find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

}  // namespace bitnet::model
