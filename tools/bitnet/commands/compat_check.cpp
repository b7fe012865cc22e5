// `bitnet compat-check MODEL.gguf [--json]`: can this installation run the model? One
// PASS/WARN/FAIL line per check; exit 1 when any check fails.
#include <bitnet/runtime/backend/capabilities.hpp>
#include <bitnet/runtime/gguf/reader.hpp>
#include <bitnet/runtime/log.hpp>
#include <bitnet/runtime/model/compat_check.hpp>
#include <bitnet/runtime/plugins/plugin_host.hpp>

#include "../command.hpp"
#include "check_report.hpp"

namespace bitnet::cli {
namespace {

using model::Check;
using model::Verdict;

std::vector<model::InstalledBackend> installed_backends() {
  std::vector<model::InstalledBackend> out;
  const plugins::PluginHost host = plugins::PluginHost::scan();
  for (const plugins::PluginRecord* p : host.ranked(BITNET_PLUGIN_KIND_BACKEND)) {
    Result<BackendCapabilities> caps = query_capabilities(*p);
    if (!caps) {
      log::warn("compat-check", "backend " + p->name + " left out: " + caps.error().message);
      continue;
    }
    out.push_back({p->name, std::move(*caps)});
  }
  return out;
}

}  // namespace

int run_compat_check(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("options");
  options.add_options()("model", po::value<std::string>()->required(), "the GGUF file")(
      "json", "print JSON instead of text");
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse(args, "MODEL.gguf [--json]", options, vm, &positional)) return kExitOk;
  const std::string path = vm["model"].as<std::string>();
  const bool as_json = vm.count("json") > 0;
  Result<gguf::Reader> r = gguf::Reader::open(path);
  if (!r) return report_checks(path, {{"file", Verdict::fail, r.error().message}}, as_json);
  std::vector<Check> checks = {{"file", Verdict::pass,
                                "GGUF v" + std::to_string(r->version()) + ", " +
                                    std::to_string(r->metadata().size()) + " metadata entries, " +
                                    std::to_string(r->tensors().size()) + " tensors"}};
  for (Check& c : model::compat_check(*r, path, installed_backends()))
    checks.push_back(std::move(c));
  return report_checks(path, checks, as_json);
}

}  // namespace bitnet::cli
