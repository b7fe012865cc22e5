// A model's tensors copied from the GGUF into one buffer of the chosen backend, each described
// as a bitnet_tensor leaf that graphs point at directly.
#pragma once

#include <bitnet/backend.h>
#include <bitnet/runtime/backend/backend.hpp>
#include <bitnet/runtime/gguf/reader.hpp>

#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

namespace bitnet::model {

class Weights {
 public:
  // Every tensor of `reader` into one buffer of `backend`, each at an offset aligned to the
  // backend's alignment.
  static Result<Weights> upload(const gguf::Reader& reader, Backend& backend);
  Weights(Weights&&) noexcept = default;
  Weights& operator=(Weights&&) noexcept = default;

  // The placed tensor called `name`, or nullptr when the file has none.
  const bitnet_tensor* find(std::string_view name) const;
  size_t bytes() const { return buffer_.size(); }

 private:
  Weights() = default;
  BackendBuffer buffer_;
  std::deque<bitnet_tensor> tensors_;
  std::deque<std::string> names_;
  std::unordered_map<std::string_view, const bitnet_tensor*> by_name_;
};

}  // namespace bitnet::model
