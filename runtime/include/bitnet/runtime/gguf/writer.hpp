// Writes GGUF v3 files: any metadata, tensors of every supported type. The file appears under
// its name only when complete (written beside it, then renamed).
#pragma once

#include <bitnet/runtime/error.hpp>
#include <bitnet/runtime/gguf/value.hpp>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace bitnet::gguf {

class Writer {
 public:
  // Sets a metadata entry, replacing one of the same key; entries keep their first position.
  void set(const std::string& key, Value value);
  // Adds a tensor (ne[0] innermost). `data` must hold exactly the tensor's bytes.
  Result<> add_tensor(std::string name, int32_t type, std::vector<int64_t> ne,
                      std::vector<std::byte> data);
  Result<> write(const std::filesystem::path& path) const;

 private:
  struct Tensor {
    std::string name;
    int32_t type;
    std::vector<int64_t> ne;
    std::vector<std::byte> data;
  };
  size_t alignment() const;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<Tensor> tensors_;
};

}  // namespace bitnet::gguf
