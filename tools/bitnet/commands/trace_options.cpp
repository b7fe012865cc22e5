#include "trace_options.hpp"

#include <cstdlib>

#include "../command.hpp"

namespace bitnet::cli {

namespace po = boost::program_options;

void add_trace_options(po::options_description& options) {
  options.add_options()("trace", po::value<std::string>(),
                        "record every op output in DIR (also BITNET_TRACE_DIR); compare two "
                        "with `bitnet trace diff`")(
      "trace-layers", po::value<std::string>(), "only these layers, e.g. 0-3,10 (default: all)")(
      "trace-positions", po::value<std::string>(),
      "only these token positions, e.g. 0,5-7 (default: all)")(
      "trace-values", "also write the raw values to DIR/values.f32");
}

TraceRequest trace_request(const po::variables_map& vm) {
  TraceRequest t;
  if (vm.count("trace"))
    t.dir = vm["trace"].as<std::string>();
  else if (const char* env = std::getenv("BITNET_TRACE_DIR"); env && *env)
    t.dir = env;
  t.values = vm.count("trace-values") > 0;
  for (auto [option, ranges] : {std::pair{"trace-layers", &t.filter.layers},
                                std::pair{"trace-positions", &t.filter.positions}}) {
    if (!vm.count(option)) continue;
    Result<diagnostics::Ranges> r = diagnostics::parse_ranges(vm[option].as<std::string>());
    if (!r) throw UsageError("--" + std::string(option) + ": " + r.error().message);
    *ranges = std::move(*r);
  }
  if (t.dir.empty() && (t.values || vm.count("trace-layers") || vm.count("trace-positions")))
    throw UsageError("--trace-layers, --trace-positions and --trace-values need a trace",
                     "add --trace DIR or set BITNET_TRACE_DIR");
  return t;
}

Result<std::unique_ptr<diagnostics::TraceWriter>> start_trace(const TraceRequest& request,
                                                              model::Model& model,
                                                              model::Session& session) {
  if (request.dir.empty()) return std::unique_ptr<diagnostics::TraceWriter>();
  Result<std::unique_ptr<diagnostics::TraceWriter>> w =
      diagnostics::TraceWriter::create(request.dir, request.values);
  if (!w) return w.error();
  diagnostics::TraceWriter* writer = w->get();
  session.observe(diagnostics::slice_observer(
      model.backend(), request.filter,
      [writer](const diagnostics::NodeSlice& s) { return writer->write(s); }));
  return w;
}

}  // namespace bitnet::cli
