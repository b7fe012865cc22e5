// A validated GGUF v2/v3 reader over a memory map. open() checks every count, length, offset
// and size against the file before using it; a hostile file becomes an Error naming the field
// and its byte offset. Tensor data is never read at open: it is paged in when touched.
#pragma once

#include <bitnet/runtime/error.hpp>
#include <bitnet/runtime/gguf/value.hpp>
#include <bitnet/runtime/mapped_file.hpp>

#include <array>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace bitnet::gguf {

inline constexpr size_t kMaxDims = 4;
inline constexpr size_t kDefaultAlignment = 32;
// Deeper array nesting than any real file has; the limit keeps parsing bounded.
inline constexpr int kMaxArrayDepth = 8;
// Array elements over all metadata; the largest vocabularies with merges stay far below.
inline constexpr uint64_t kMaxMetadataItems = uint64_t{4} << 20;

struct KeyValue {
  std::string key;
  Value value;
};

struct TensorInfo {
  std::string name;
  int32_t type = 0;  // bitnet_type / ggml_type
  uint32_t n_dims = 0;
  std::array<int64_t, kMaxDims> ne = {1, 1, 1, 1};
  uint64_t offset = 0;     // from the start of the data section
  size_t bytes = 0;        // size of its data
  size_t info_offset = 0;  // where its description starts in the file, for messages
  int64_t elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

class Reader {
 public:
  static Result<Reader> open(const std::filesystem::path& path);
  // Parses bytes that stay valid while the Reader lives; `name` is used in messages.
  static Result<Reader> parse(std::span<const std::byte> bytes, std::string name);

  uint32_t version() const { return version_; }
  size_t alignment() const { return alignment_; }
  size_t data_offset() const { return data_offset_; }
  size_t file_size() const { return bytes_.size(); }
  const std::string& name() const { return name_; }

  const std::vector<KeyValue>& metadata() const { return metadata_; }
  const Value* find(std::string_view key) const;
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* tensor(std::string_view name) const;
  std::span<const std::byte> data(const TensorInfo& t) const {
    return bytes_.subspan(data_offset_ + t.offset, t.bytes);
  }
  // Drops the pages of a part of data() from memory when the file is mapped (see
  // MappedFile::release).
  void release(std::span<const std::byte> range) const {
    if (file_) file_->release(range);
  }

 private:
  friend class Parser;
  std::optional<MappedFile> file_;
  std::span<const std::byte> bytes_;
  std::string name_;
  uint32_t version_ = 0;
  size_t alignment_ = kDefaultAlignment;
  size_t data_offset_ = 0;
  std::vector<KeyValue> metadata_;
  std::vector<TensorInfo> tensors_;
};

}  // namespace bitnet::gguf
