// Tracing for the commands that run a model (run, chat, perplexity): --trace DIR or
// BITNET_TRACE_DIR=DIR records every op output of the layers and positions asked for.
#pragma once

#include <bitnet/runtime/diagnostics/trace_file.hpp>
#include <bitnet/runtime/model/model.hpp>
#include <bitnet/runtime/model/session.hpp>

#include <boost/program_options.hpp>

#include <memory>
#include <string>

namespace bitnet::cli {

// --trace --trace-layers --trace-positions --trace-values
void add_trace_options(boost::program_options::options_description& options);

struct TraceRequest {
  std::string dir;  // empty: no trace
  diagnostics::SliceFilter filter;
  bool values = false;
};

// From the options, else BITNET_TRACE_DIR. Throws UsageError for a bad list, or a filter
// without a trace directory; read it before loading anything.
TraceRequest trace_request(const boost::program_options::variables_map& vm);

// Makes the session report every op output to the returned writer, which must outlive the
// session's evaluations; nullptr when no trace was asked for.
Result<std::unique_ptr<diagnostics::TraceWriter>> start_trace(const TraceRequest& request,
                                                              model::Model& model,
                                                              model::Session& session);

}  // namespace bitnet::cli
