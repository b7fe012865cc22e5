// Whether a GGUF file is one this installation can run: architecture, hyperparameters, tensors
// (present, shaped, of a type some installed backend runs) and tokenizer. Each check is one
// verdict with a reason, so `bitnet compat-check` and diagnostics print the same thing.
#pragma once

#include <bitnet/runtime/backend/capabilities.hpp>
#include <bitnet/runtime/gguf/reader.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace bitnet::model {

enum class Verdict { pass, warn, fail };
std::string_view verdict_name(Verdict v);  // "PASS", "WARN", "FAIL"

struct Check {
  std::string name;
  Verdict verdict;
  std::string detail;  // what was found; on WARN/FAIL also what to do
};

struct InstalledBackend {
  std::string plugin;
  BackendCapabilities caps;
};

// `model_path` is where the file lies: a tokenizer that is not embedded is looked for beside it.
std::vector<Check> compat_check(const gguf::Reader& r, const std::filesystem::path& model_path,
                                const std::vector<InstalledBackend>& backends);

// The worst verdict of all checks.
Verdict overall(const std::vector<Check>& checks);

}  // namespace bitnet::model
