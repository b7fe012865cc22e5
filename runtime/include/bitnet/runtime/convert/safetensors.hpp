// A validated reader of HF safetensors files over a memory map, and of a checkpoint folder
// (model.safetensors, or the shards model.safetensors.index.json names). Every length, offset
// and size in the JSON header is checked against the file before use; a hostile file becomes an
// Error naming the tensor and the field. Tensor data is paged in only when read.
#pragma once

#include <bitnet/runtime/error.hpp>
#include <bitnet/runtime/mapped_file.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bitnet::convert {

// Headers beyond this are refused before they are parsed; real ones are well under 10 MB.
inline constexpr uint64_t kMaxSafetensorsHeader = 100'000'000;

// The float dtypes a converter reads; quantised or packed checkpoints are refused by name.
enum class Dtype { f32, f16, bf16 };
std::string_view dtype_name(Dtype d);
size_t dtype_size(Dtype d);

struct SafeTensor {
  std::string name;
  Dtype dtype = Dtype::f32;
  std::vector<int64_t> shape;  // outermost first, as torch writes it
  std::span<const std::byte> data;
  int64_t elements() const;
};

// The elements of `t` as float (exact for all three dtypes).
std::vector<float> to_f32(const SafeTensor& t);

class SafetensorsFile {
 public:
  static Result<SafetensorsFile> open(const std::filesystem::path& path);
  // Parses bytes that stay valid while the object lives; `name` is used in messages.
  static Result<SafetensorsFile> parse(std::span<const std::byte> bytes, std::string name);

  const std::string& name() const { return name_; }
  const std::vector<SafeTensor>& tensors() const { return tensors_; }  // sorted by name
  const SafeTensor* find(std::string_view name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  std::optional<MappedFile> file_;
  std::string name_;
  std::vector<SafeTensor> tensors_;
  std::map<std::string, std::string> metadata_;
};

// Every tensor of a checkpoint folder, whichever shard holds it.
class Checkpoint {
 public:
  static Result<Checkpoint> open(const std::filesystem::path& dir);

  const SafeTensor* find(std::string_view name) const;
  // All tensors, sorted by name.
  std::vector<const SafeTensor*> tensors() const;

 private:
  // unique_ptr: the index points into the files, which must not move.
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const SafeTensor*, std::less<>> index_;
};

}  // namespace bitnet::convert
