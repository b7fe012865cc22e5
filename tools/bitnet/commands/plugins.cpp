// `bitnet plugins [--json]`: every plugin file found, loaded or not, and why.
#include <bitnet/runtime/backend/capabilities.hpp>
#include <bitnet/runtime/plugins/discovery.hpp>
#include <bitnet/runtime/plugins/negotiation.hpp>
#include <bitnet/runtime/plugins/plugin_host.hpp>
#include <bitnet/sdk/ops.hpp>
#include <bitnet/sdk/types.hpp>

#include <boost/json.hpp>

#include <cstdio>
#include <iostream>
#include <optional>

#include "../command.hpp"

namespace bitnet::cli {
namespace {

namespace json = boost::json;
using plugins::PluginRecord;

std::string gib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1ull << 30));
  return buf;
}

json::object caps_json(const BackendCapabilities& c) {
  json::object ops;
  for (const OpSupport& s : c.ops) {
    json::array types;
    for (int32_t t : s.types)
      types.emplace_back(sdk::type_name(t));
    ops[sdk::op_name(s.op)] = std::move(types);
  }
  return {{"devices", c.devices},
          {"device_name", c.props.device_name},
          {"memory_total", c.props.memory_total},
          {"memory_free", c.props.memory_free},
          {"alignment", c.props.alignment},
          {"host_memory", c.props.host_memory},
          {"ops", std::move(ops)}};
}

json::object record_json(const PluginRecord& r,
                         const std::optional<Result<BackendCapabilities>>& caps) {
  json::object o{{"name", r.name},
                 {"kind", plugins::kind_name(r.kind)},
                 {"version", r.version},
                 {"description", r.description},
                 {"path", r.path.string()},
                 {"abi_built", plugins::to_string(r.built)},
                 {"abi", r.negotiated.major ? json::value(plugins::to_string(r.negotiated))
                                            : json::value(nullptr)},
                 {"score", r.score},
                 {"score_reason", r.score_reason},
                 {"status", r.loaded ? "loaded" : "rejected"}};
  if (!r.loaded) o["reason"] = r.rejection;
  if (caps && *caps) o["capabilities"] = caps_json(**caps);
  if (caps && !*caps) o["capabilities_error"] = caps->error().message;
  return o;
}

void print_text(const PluginRecord& r, const std::optional<Result<BackendCapabilities>>& caps) {
  const std::string name = r.name.empty() ? r.path.filename().string() : r.name;
  std::cout << name << "  " << plugins::kind_name(r.kind);
  if (!r.version.empty()) std::cout << " " << r.version;
  if (r.built.major) std::cout << "  ABI " << plugins::to_string(r.built);
  if (r.loaded) {
    std::cout << "  score " << r.score << "  loaded\n";
  } else {
    std::cout << "  rejected: " << r.rejection << "\n";
  }
  if (!r.description.empty()) std::cout << "    " << r.description << "\n";
  std::cout << "    file: " << r.path.string() << "\n";
  if (!caps) return;
  if (!*caps) {
    std::cout << "    capabilities: unavailable: " << caps->error().message << "\n";
    return;
  }
  const BackendCapabilities& c = **caps;
  std::cout << "    device: " << c.props.device_name << " (" << c.devices << " device"
            << (c.devices == 1 ? "" : "s") << "), memory " << gib(c.props.memory_total) << ", free "
            << gib(c.props.memory_free) << ", alignment " << c.props.alignment << "\n    ops:";
  if (c.ops.empty()) std::cout << " none";
  for (const OpSupport& s : c.ops) {
    std::cout << " " << sdk::op_name(s.op) << "(";
    for (size_t i = 0; i < s.types.size(); ++i)
      std::cout << (i ? "," : "") << sdk::type_name(s.types[i]);
    std::cout << ")";
  }
  std::cout << "\n";
}

}  // namespace

int run_plugins(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("options");
  options.add_options()("json", "print JSON instead of text");
  po::variables_map vm;
  if (!parse(args, "[--json]", options, vm)) return kExitOk;

  const auto paths = plugins::default_search_paths();
  const auto host = plugins::PluginHost::scan({.search_paths = paths});
  json::array list;
  for (const PluginRecord& r : host.plugins()) {
    std::optional<Result<BackendCapabilities>> caps;
    if (r.loaded && r.kind == BITNET_PLUGIN_KIND_BACKEND) caps = query_capabilities(r);
    if (vm.count("json")) {
      list.push_back(record_json(r, caps));
    } else {
      print_text(r, caps);
    }
  }
  if (vm.count("json")) {
    json::array searched;
    for (const auto& p : paths)
      searched.emplace_back(p.string());
    json::object out{
        {"abi", std::to_string(BITNET_ABI_MAJOR) + "." + std::to_string(BITNET_ABI_MINOR)},
        {"search_paths", std::move(searched)},
        {"plugins", std::move(list)}};
    std::cout << json::serialize(out) << "\n";
  } else if (host.plugins().empty()) {
    std::cout << "no plugins found; searched:";
    for (const auto& p : paths)
      std::cout << " " << p.string();
    std::cout << "\nset BITNET_PLUGIN_PATH to a directory holding bitnet-*.so plugins\n";
  }
  return kExitOk;
}

}  // namespace bitnet::cli
