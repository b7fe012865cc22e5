// What `bitnet run` and `bitnet chat` share: the options that pick a model, its tokenizer, a
// backend and threads; the sampling options and their environment variables; and loading it all.
#pragma once

#include <bitnet/runtime/diagnostics/trace_file.hpp>
#include <bitnet/runtime/generate/generator.hpp>
#include <bitnet/runtime/model/model.hpp>
#include <bitnet/runtime/model/session.hpp>
#include <bitnet/runtime/plugins/plugin_host.hpp>
#include <bitnet/runtime/tokenizer/tokenizer.hpp>

#include <boost/program_options.hpp>

#include <memory>
#include <string>

namespace bitnet::cli {

// --model --tokenizer --backend --threads --ctx --batch, and the trace options
void add_model_options(boost::program_options::options_description& options);
// --max-tokens --temperature --top-k --top-p --min-p --repeat-penalty --repeat-last-n --seed
// --greedy --stop
void add_sampling_options(boost::program_options::options_description& options);

// Sampling settings from the options; the seed from --seed, else BITNET_SEED, else 0 under
// BITNET_DETERMINISTIC=1, else a random one. Throws UsageError for values out of range.
generate::GenerateOptions generation_options(const boost::program_options::variables_map& vm);

// The model `run` and `chat` use without --model: trained on the Brown corpus by
// tools/train-tiny, shipped in models/.
inline constexpr const char* kBundledModel = "bitnet-b1.58-tiny-brown.gguf";

// $BITNET_MODEL, else the bundled model beside this executable; "" when neither exists.
std::string default_model();
// --model, else default_model(); a UsageError when there is neither.
std::string model_path(const boost::program_options::variables_map& vm);
// Sizes the thread pool from --threads, when given (a UsageError below 1).
void apply_threads(const boost::program_options::variables_map& vm);

struct LoadedModel {
  std::string path;
  std::unique_ptr<model::Model> model;
  std::unique_ptr<model::Session> session;
  std::unique_ptr<tok::Tokenizer> tokenizer;
  int threads = 0;
  std::unique_ptr<diagnostics::TraceWriter> trace;  // when --trace or BITNET_TRACE_DIR asked
};

// Scans plugins, loads the model on the chosen backend, finds its tokenizer through the
// discovery chain and opens a session of --ctx positions, traced when asked.
Result<LoadedModel> load_model(const boost::program_options::variables_map& vm);

// The most resident memory this process has had (getrusage's ru_maxrss), in bytes.
uint64_t peak_rss_bytes();

// True when BITNET_<name> is set to something other than "", "0" or "false".
bool env_flag(const char* name);

}  // namespace bitnet::cli
