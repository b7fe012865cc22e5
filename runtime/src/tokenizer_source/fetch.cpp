#include <bitnet/runtime/net/download.hpp>
#include <bitnet/runtime/tokenizer_source/fetch.hpp>
#include <bitnet/runtime/tokenizer_source/known.hpp>

#include "steps.hpp"

namespace bitnet::tokenizer_source {
namespace {

std::string what_of(const FetchRequest& r, const std::string& repo) {
  if (!r.file.empty()) return r.file + " of " + repo;
  if (!r.model.path.empty()) return "the tokenizer of " + r.model.path.string();
  return "the tokenizer of " + repo;
}

}  // namespace

Fetch fetch(const plugins::PluginHost& host, const SourcesConfig& config,
            const FetchRequest& request) {
  Fetch out;
  const KnownTokenizer* known =
      request.repo_id.empty() && request.file.empty()
          ? find_known_tokenizer(request.model.architecture, request.model.n_vocab)
          : nullptr;
  if (known) out.cache_key = known->cache_key;
  detail::OwnedQuery q;
  q.model_path = request.model.path.string();
  q.repo_id = !request.repo_id.empty()         ? request.repo_id
              : !request.model.repo_id.empty() ? request.model.repo_id
              : known                          ? std::string(known->repo)
                                               : "";
  q.revision = request.revision.empty() ? "main" : request.revision;
  q.cache_dir = config.cache_dir.string();
  q.allow_network = request.allow_network && !config.offline;
  q.architecture = request.model.architecture;
  q.n_vocab = request.model.n_vocab;
  q.cache_key = out.cache_key;
  q.file = request.file;
  std::vector<detail::Step> steps;
  for (detail::Step& s : detail::expand(config, {"mirrors", "hub"}, {}, request.force))
    if (request.source.empty() || request.source == s.name) steps.push_back(std::move(s));
  detail::run_steps(host, config, steps, q, {config.strict, config.offline, false, false},
                    out.found, out.attempts);
  return out;
}

Result<FoundTokenizer> fetch_or_explain(const plugins::PluginHost& host,
                                        const SourcesConfig& config, const FetchRequest& request) {
  Fetch f = fetch(host, config, request);
  if (f.found) return std::move(*f.found);
  if (f.attempts.empty()) {
    std::string names = "hub";
    for (const MirrorConfig& m : config.mirrors)
      names += ", mirror:" + m.name;
    return make_error(
        BITNET_STATUS_INVALID_ARGUMENT,
        "--source " + request.source + " is not a configured source; the sources: " + names);
  }
  Discovery d{std::nullopt, std::move(f.attempts), f.cache_key};
  const std::string repo = !request.repo_id.empty() ? request.repo_id : request.model.repo_id;
  return make_error(BITNET_STATUS_NOT_FOUND,
                    "could not fetch " + what_of(request, repo.empty() ? "the model" : repo) +
                        "; the sources tried:\n" + describe_attempts(d) +
                        (config.offline ? "offline mode is on: unset BITNET_OFFLINE and "
                                          "HF_HUB_OFFLINE to download"
                                        : "check the name and revision, the network settings "
                                          "(HTTPS_PROXY, the CA bundle) and the token"));
}

Result<std::filesystem::path> explicit_tokenizer_file(const plugins::PluginHost& host,
                                                      const SourcesConfig& config,
                                                      const std::string& given, int64_t n_vocab) {
  if (!detail::is_url(given)) return std::filesystem::path(given);
  detail::OwnedQuery q;
  q.explicit_path = given;
  q.cache_dir = config.cache_dir.string();
  q.n_vocab = n_vocab;
  std::optional<FoundTokenizer> found;
  std::vector<Attempt> attempts;
  detail::run_steps(host, config, detail::expand(config, {"explicit"}, given, false), q,
                    {config.strict, config.offline, false, false}, found, attempts);
  if (found) return found->path;
  return make_error(BITNET_STATUS_NOT_FOUND,
                    attempts.empty() || attempts.front().detail.empty()
                        ? "--tokenizer " + net::redact_url(given) + ": no source could fetch it"
                        : attempts.front().detail);
}

}  // namespace bitnet::tokenizer_source
