// A trace on disk, as `--trace DIR` (or BITNET_TRACE_DIR) writes it: DIR/trace.jsonl holds one
// JSON object per (position, op output) in the order they were computed:
//   {"position":3,"layer":1,"op":"ffn_act","shape":[128],"dtype":"F32","rms":...,"mean":...,
//    "min":...,"max":...,"nonfinite":0,"hash":"<16 hex digits>"}
// ("layer" is null outside layers; statistics cover finite values, "nonfinite" counts the rest;
// "hash" is FNV-1a of the float32 values). With values, DIR/values.f32 holds each record's
// values as little-endian float32 and the record says where: "values_offset" (bytes).
#pragma once

#include <bitnet/runtime/diagnostics/node_trace.hpp>
#include <bitnet/runtime/diagnostics/tensor_stats.hpp>
#include <bitnet/runtime/mapped_file.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bitnet::diagnostics {

inline constexpr const char* kTraceRecords = "trace.jsonl";
inline constexpr const char* kTraceValues = "values.f32";

class TraceWriter {
 public:
  // Creates `dir` when missing and replaces a trace already in it.
  static Result<std::unique_ptr<TraceWriter>> create(const std::filesystem::path& dir, bool values);
  Result<> write(const NodeSlice& slice);
  // Flushes both files; the destructor does the same but can only log a failure.
  Result<> close();
  ~TraceWriter();

 private:
  TraceWriter() = default;
  std::filesystem::path dir_;
  std::ofstream records_, values_;
  bool with_values_ = false;
  uint64_t values_bytes_ = 0;
};

struct TraceRecord {
  int64_t position = 0;
  std::optional<int64_t> layer;
  std::string op;
  std::vector<int64_t> shape;
  std::string dtype;
  TensorStats stats;
  std::optional<uint64_t> values_offset;
};

struct Trace {
  std::filesystem::path path;
  std::vector<TraceRecord> records;
  std::optional<MappedFile> values;
  // The record's values; empty when the trace was written without them.
  std::vector<float> values_of(const TraceRecord& r) const;
};

// `path`: a trace directory or its trace.jsonl. Every line and every value offset is checked.
Result<Trace> read_trace(const std::filesystem::path& path);

}  // namespace bitnet::diagnostics
