#include "receipt.hpp"

#include <bitnet/runtime/atomic_file.hpp>
#include <bitnet/runtime/diagnostics/sha256.hpp>
#include <bitnet/runtime/version.hpp>
#include <bitnet/sdk/types.hpp>

#include <map>

#include "model_setup.hpp"

namespace bitnet::cli {

namespace json = boost::json;

Result<> write_receipt(const std::string& path, const std::string& command,
                       const std::string& model_path, model::Model& model, int threads,
                       json::object details) {
  Result<std::string> sha = diagnostics::sha256_file(model_path);
  if (!sha) return sha.error();
  std::map<std::string, int64_t> types;
  for (const gguf::TensorInfo& t : model.reader().tensors())
    ++types[std::string(sdk::type_name(t.type))];
  json::object weight_types;
  for (const auto& [name, n] : types)
    weight_types[name] = n;
  Result<BackendProps> props = model.backend().props();
  json::object r{{"command", command},
                 {"bitnet_version", kVersion},
                 {"model",
                  {{"path", model_path},
                   {"sha256", *sha},
                   {"architecture", std::string(model.arch().name)},
                   {"weight_types", std::move(weight_types)}}},
                 {"backend",
                  {{"name", model.backend_name()},
                   {"version", model.backend().plugin_version()},
                   {"device", props ? props->device_name : std::string()}}},
                 {"threads", threads},
                 {"deterministic", env_flag("BITNET_DETERMINISTIC")}};
  for (auto& [key, value] : details)
    r.emplace(key, std::move(value));
  if (Result<> w = write_file_atomically(path, json::serialize(r) + "\n"); !w)
    return make_error(w.error().code, "cannot write the receipt: " + w.error().message);
  return {};
}

}  // namespace bitnet::cli
