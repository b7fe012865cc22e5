// Receipts (`bitnet run --receipt FILE`, `bitnet bench --receipt FILE`): a JSON record of what
// ran, enough to repeat it and to tell two runs apart: the model by content, the backend and its
// version, threads, the bitnet version. Each command adds its own part (ids, sampling, timings).
#pragma once

#include <bitnet/runtime/model/model.hpp>

#include <boost/json.hpp>

#include <string>

namespace bitnet::cli {

// Writes the common part (reading the whole model file once for its SHA-256), then `details`:
// the command's own part, less any key the common part has.
Result<> write_receipt(const std::string& path, const std::string& command,
                       const std::string& model_path, model::Model& model, int threads,
                       boost::json::object details);

}  // namespace bitnet::cli
