// Device memory the backend keeps for itself (ternary matmuls' int8 activations): grown to the
// largest graph's need before that graph runs, never shrunk, so memory stays flat once the
// largest step has run.
#pragma once

#include <cstddef>

namespace bitnet::cuda {

class Scratch {
 public:
  explicit Scratch(int device) : device_(device) {}
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  // Makes room for `bytes`; may synchronise the device (it frees the old block).
  void reserve(size_t bytes);
  char* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  int device_;
  char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace bitnet::cuda
