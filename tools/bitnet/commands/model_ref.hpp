// `--model REPO[:FILE]`: a model named by its repository, found where `bitnet pull` put it (or
// in the HF cache), and downloaded first when --auto-download allows it.
#pragma once

#include <bitnet/runtime/error.hpp>

#include <optional>
#include <string>

namespace bitnet::cli {

struct ModelRef {
  std::string repo;  // org/name
  std::string file;  // a file of it, or "*.gguf": the repository's single GGUF
};

// A --model value that is no existing file and reads as org/name[:file] (not a path: no
// leading '/', '.' or '~', and no ".gguf" before the ':').
std::optional<ModelRef> parse_model_ref(const std::string& value);

// The local file of the model, downloaded when allowed; the error lists the sources asked.
Result<std::string> resolve_model_ref(const ModelRef& ref, bool allow_network);

}  // namespace bitnet::cli
