// A loaded model: its GGUF, architecture and hyperparameters, the backend chosen to run it and
// its weights in that backend's memory. Sessions (model/session.hpp) run it.
#pragma once

#include <bitnet/runtime/backend/backend.hpp>
#include <bitnet/runtime/gguf/reader.hpp>
#include <bitnet/runtime/model/architecture.hpp>
#include <bitnet/runtime/model/weights.hpp>
#include <bitnet/runtime/plugins/plugin_host.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace bitnet::model {

struct ModelOptions {
  std::string backend;         // --backend NAME; empty: the best-ranked backend that fits
  bool force_cpu = false;      // BITNET_FORCE_CPU: only backends whose memory is host RAM
  bool deterministic = false;  // BITNET_DETERMINISTIC: asks the backend for fixed reductions
  int64_t n_ctx = 0;           // positions the caller will use (0: the model's); sizes the check
};

class Model {
 public:
  // Opens and validates the file, picks the backend, checks it can run every node of the
  // architecture's graph, then uploads the weights.
  static Result<std::unique_ptr<Model>> load(const std::filesystem::path& path,
                                             const plugins::PluginHost& host,
                                             const ModelOptions& options);

  const gguf::Reader& reader() const { return reader_; }
  const ArchSpec& arch() const { return *arch_; }
  const Hparams& hparams() const { return h_; }
  Backend& backend() { return backend_; }
  const Weights& weights() const { return weights_; }
  const std::string& backend_name() const { return backend_.plugin_name(); }

 private:
  Model(gguf::Reader reader, const ArchSpec* arch, Hparams h, Backend backend, Weights weights)
      : reader_(std::move(reader)),
        arch_(arch),
        h_(h),
        backend_(std::move(backend)),
        weights_(std::move(weights)) {}
  gguf::Reader reader_;
  const ArchSpec* arch_;
  Hparams h_;
  Backend backend_;  // declared before weights_: buffers are freed before their backend
  Weights weights_;
};

}  // namespace bitnet::model
