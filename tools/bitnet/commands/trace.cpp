// `bitnet trace diff A B [--tol X] [--json]`: where two traces (written with --trace DIR or
// BITNET_TRACE_DIR) of the same model and tokens part ways: the first (position, layer, op)
// beyond the tolerance, then how each later layer's output RMS compares. Exit 1 when they
// differ, like diff(1).
#include <bitnet/runtime/diagnostics/trace_diff.hpp>

#include <boost/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>

#include "../command.hpp"

namespace bitnet::cli {
namespace {

namespace json = boost::json;
using diagnostics::RecordPair;

json::value number(double v) {
  return std::isfinite(v) ? json::value(v) : json::value(nullptr);
}

double ratio(const RecordPair& p) {
  return p.a->stats.rms > 0 ? p.b->stats.rms / p.a->stats.rms : NAN;
}

std::string layer_name(const diagnostics::TraceRecord& r) {
  return r.layer ? std::to_string(*r.layer) : "-";
}

json::object pair_json(const RecordPair& p) {
  return {{"position", p.a->position},
          {"layer", p.a->layer ? json::value(*p.a->layer) : json::value(nullptr)},
          {"op", p.a->op},
          {"rms_a", p.a->stats.rms},
          {"rms_b", p.b->stats.rms},
          {"ratio", number(ratio(p))},
          {"error", number(p.error)}};
}

int run_diff(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("options");
  options.add_options()("a", po::value<std::string>()->required(), "the first trace")(
      "b", po::value<std::string>()->required(), "the second trace")(
      "tol", po::value<double>()->default_value(1e-3),
      "relative difference tolerated (of the values when both traces hold them, else of the "
      "statistics)")("json", "print JSON");
  po::positional_options_description positional;
  positional.add("a", 1).add("b", 1);
  po::variables_map vm;
  if (!parse(args, "diff TRACE_A TRACE_B [--tol X] [--json]", options, vm, &positional))
    return kExitOk;
  const double tol = vm["tol"].as<double>();
  if (!(tol >= 0)) throw UsageError("--tol must be 0 or more");
  const std::string path_a = vm["a"].as<std::string>(), path_b = vm["b"].as<std::string>();
  Result<diagnostics::Trace> a = diagnostics::read_trace(path_a);
  Result<diagnostics::Trace> b = a ? diagnostics::read_trace(path_b) : a.error();
  if (!b) {
    std::cerr << "bitnet trace diff: " << b.error().message << "\n";
    return kExitRuntimeError;
  }
  const diagnostics::TraceDiff d = diagnostics::diff_traces(*a, *b, tol);
  if (vm.count("json")) {
    json::array layers;
    for (const RecordPair& p : d.layers_after)
      layers.push_back(pair_json(p));
    std::cout << json::serialize(json::object{
                     {"a", path_a},
                     {"b", path_b},
                     {"tolerance", tol},
                     {"compared_by", d.used_values ? "values" : "statistics"},
                     {"compared", d.compared},
                     {"only_in_a", d.only_in_a},
                     {"only_in_b", d.only_in_b},
                     {"first", d.first ? json::value(pair_json(*d.first)) : json::value(nullptr)},
                     {"layers", std::move(layers)}})
              << "\n";
    return d.first ? kExitRuntimeError : kExitOk;
  }
  std::printf("compared %zu records by %s (%zu only in A, %zu only in B)\n", d.compared,
              d.used_values ? "values" : "statistics", d.only_in_a, d.only_in_b);
  if (!d.first) {
    std::printf("no difference beyond %g\n", tol);
    return kExitOk;
  }
  const diagnostics::TraceRecord& f = *d.first->a;
  std::printf(
      "first difference: position %lld, %s%s: rms %.6g vs %.6g (relative difference %.3g)\n",
      static_cast<long long>(f.position),
      f.layer ? ("layer " + std::to_string(*f.layer) + " ").c_str() : "", f.op.c_str(), f.stats.rms,
      d.first->b->stats.rms, d.first->error);
  std::printf(
      "\nfrom there on, at position %lld, each layer's last op:\n%-6s %-16s %12s %12s %10s\n",
      static_cast<long long>(f.position), "layer", "op", "rms A", "rms B", "B/A");
  for (const RecordPair& p : d.layers_after)
    std::printf("%-6s %-16s %12.6g %12.6g %10.5f\n", layer_name(*p.a).c_str(), p.a->op.c_str(),
                p.a->stats.rms, p.b->stats.rms, ratio(p));
  return kExitRuntimeError;
}

}  // namespace

int run_trace(const Args& args) {
  const std::string action = args.argv.empty() ? "" : args.argv.front();
  if (action == "diff")
    return run_diff({args.command + " diff", {args.argv.begin() + 1, args.argv.end()}});
  if (action == "-h" || action == "--help") {
    std::cout << "usage: bitnet trace diff TRACE_A TRACE_B [--tol X] [--json]\n"
                 "traces are written by `bitnet run --trace DIR` or BITNET_TRACE_DIR=DIR\n";
    return kExitOk;
  }
  throw UsageError(
      action.empty() ? "bitnet trace needs an action" : "unknown trace action '" + action + "'",
      "the actions: diff (run `bitnet trace diff --help`)");
}

}  // namespace bitnet::cli
