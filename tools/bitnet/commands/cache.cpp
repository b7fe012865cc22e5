// `bitnet cache list [--json] | verify | clean [--older-than DAYS]`: what the tokenizer and
// model sources have downloaded (see runtime cache/cache.hpp for the layout).
#include <bitnet/runtime/cache/cache.hpp>
#include <bitnet/runtime/tokenizer_source/config.hpp>

#include <boost/json.hpp>

#include <iostream>

#include "../command.hpp"

namespace bitnet::cli {
namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;
namespace json = boost::json;

int64_t age_days(fs::file_time_type t) {
  return std::chrono::duration_cast<std::chrono::hours>(fs::file_time_type::clock::now() - t)
             .count() /
         24;
}

int list(const fs::path& dir, const Args& args) {
  po::options_description options("options");
  options.add_options()("json", "print JSON");
  po::variables_map vm;
  if (!parse(args, "[--json]", options, vm)) return kExitOk;
  const std::vector<cache::Entry> entries = cache::list(dir);
  if (vm.count("json")) {
    json::array out;
    for (const cache::Entry& e : entries) {
      json::array files, partials;
      for (const fs::path& f : e.files)
        files.emplace_back(f.string());
      for (const fs::path& p : e.partials)
        partials.emplace_back(p.string());
      out.push_back(json::object{{"kind", e.kind},
                                 {"name", e.name},
                                 {"dir", e.dir.string()},
                                 {"bytes", e.bytes},
                                 {"age_days", age_days(e.newest)},
                                 {"files", std::move(files)},
                                 {"partials", std::move(partials)}});
    }
    std::cout << json::serialize(json::object{{"cache_dir", dir.string()}, {"entries", out}})
              << "\n";
    return kExitOk;
  }
  std::cout << "cache: " << dir.string() << (entries.empty() ? " (empty)" : "") << "\n";
  for (const cache::Entry& e : entries) {
    std::cout << "  " << e.kind << " " << e.name << ": " << e.files.size() << " files, " << e.bytes
              << " bytes, changed " << age_days(e.newest) << " days ago"
              << (e.partials.empty()
                      ? ""
                      : ", " + std::to_string(e.partials.size()) + " unfinished download(s)")
              << "\n";
  }
  return kExitOk;
}

int verify(const fs::path& dir, const Args& args) {
  po::options_description options("options");
  po::variables_map vm;
  if (!parse(args, "", options, vm)) return kExitOk;
  int bad = 0, files = 0;
  for (const cache::Entry& e : cache::list(dir)) {
    files += static_cast<int>(e.files.size());
    for (const cache::Problem& p : cache::verify(e)) {
      ++bad;
      std::cout << "FAIL " << p.file.string() << ": " << p.what << "\n";
    }
    for (const fs::path& p : e.partials)
      std::cout << "note " << p.string() << ": an unfinished download; the next fetch resumes it\n";
  }
  std::cout << files - bad << " of " << files << " files ok\n";
  return bad ? kExitRuntimeError : kExitOk;
}

int clean(const fs::path& dir, const Args& args) {
  po::options_description options("options");
  options.add_options()("older-than", po::value<int64_t>(),
                        "only entries unchanged for this many days (default: everything)");
  po::variables_map vm;
  if (!parse(args, "[--older-than DAYS]", options, vm)) return kExitOk;
  std::optional<std::chrono::hours> older;
  if (vm.count("older-than")) {
    const int64_t days = vm["older-than"].as<int64_t>();
    // Beyond a century the file clock's nanoseconds overflow and every entry would look old.
    if (days < 0 || days > 36500) throw UsageError("--older-than must be between 0 and 36500 days");
    older = std::chrono::hours(24 * days);
  }
  Result<cache::Removed> r = cache::clean(dir, older);
  if (!r) {
    std::cerr << "bitnet cache clean: " << r.error().message << "\n";
    return kExitRuntimeError;
  }
  std::cout << "removed " << r->entries << " entries, " << r->bytes << " bytes from "
            << dir.string() << "\n";
  return kExitOk;
}

}  // namespace

int run_cache(const Args& args) {
  const std::string action = args.argv.empty() ? "" : args.argv.front();
  const Args rest{args.command + " " + action,
                  {args.argv.begin() + (action.empty() ? 0 : 1), args.argv.end()}};
  if (action == "-h" || action == "--help") {
    std::cout << "usage: bitnet cache list [--json] | verify | clean [--older-than DAYS]\n";
    return kExitOk;
  }
  if (action != "list" && action != "verify" && action != "clean")
    throw UsageError(
        action.empty() ? "bitnet cache needs an action" : "unknown cache action '" + action + "'",
        "the actions: list, verify, clean");
  Result<tokenizer_source::SourcesConfig> config = tokenizer_source::load_sources_config();
  if (!config) {
    std::cerr << "bitnet cache: " << config.error().message << "\n";
    return kExitRuntimeError;
  }
  if (action == "list") return list(config->cache_dir, rest);
  if (action == "verify") return verify(config->cache_dir, rest);
  return clean(config->cache_dir, rest);
}

}  // namespace bitnet::cli
