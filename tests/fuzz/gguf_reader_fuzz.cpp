// libFuzzer target: arbitrary bytes through the GGUF reader and everything that reads what it
// returns (value display, norm statistics over tensor data, the architecture checks). Any crash,
// sanitizer report, leak or timeout is a finding.
#include <bitnet/runtime/gguf/norm_stats.hpp>
#include <bitnet/runtime/gguf/reader.hpp>
#include <bitnet/runtime/model/architecture.hpp>
#include <bitnet/runtime/model/compat_check.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bitnet;
  const std::span bytes(reinterpret_cast<const std::byte*>(data), size);
  Result<gguf::Reader> r = gguf::Reader::parse(bytes, "fuzz-input");
  if (!r) return 0;
  size_t sink = 0;
  for (const gguf::KeyValue& kv : r->metadata())
    sink += gguf::to_display(kv.value).size();
  for (const gguf::TensorInfo& t : r->tensors()) {
    const std::span<const std::byte> d = r->data(t);
    if (!d.empty()) sink += static_cast<size_t>(d.front()) + static_cast<size_t>(d.back());
  }
  sink += gguf::norm_stats(*r).size();
  // The model path names a folder that does not exist, so the tokenizer lookup touches no file.
  sink += model::compat_check(*r, "/nonexistent-bitnet-fuzz/model.gguf", {}).size();
  return sink == SIZE_MAX;
}
