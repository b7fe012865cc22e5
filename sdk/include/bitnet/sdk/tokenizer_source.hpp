// C++ side of a tokenizer-source plugin: derive from Source, return source_api<Factory>() from
// the plugin's init.
#pragma once

#include <bitnet/tokenizer_source.h>
#include <bitnet/sdk/status.hpp>

#include <memory>
#include <optional>
#include <string>

namespace bitnet::sdk {

struct SourceResult {
  int32_t format = BITNET_TOKENIZER_FORMAT_HF_JSON;
  std::string path;
  std::string config_path;  // empty: none
  std::string origin;
};

// The query with the fields a host older than this SDK may not send filled with defaults.
struct Query {
  std::string model_path, explicit_path, repo_id, revision, cache_dir, architecture, cache_key;
  std::string file;  // ABI 1.1: a repository file wanted instead of the tokenizer; empty: none
  bool allow_network = false;
  int64_t n_vocab = 0, embedded_tokens = 0;
};

inline Query read_query(const bitnet_source_query& q) {
  auto str = [](const char* s) { return s ? std::string(s) : std::string(); };
  Query out{str(q.model_path),
            str(q.explicit_path),
            str(q.repo_id),
            str(q.revision),
            str(q.cache_dir),
            {},
            {},
            {},
            q.allow_network != 0};
  if (BITNET_HAS_FIELD(&q, bitnet_source_query, cache_key)) {
    out.architecture = str(q.architecture);
    out.cache_key = str(q.cache_key);
    out.n_vocab = q.n_vocab;
    out.embedded_tokens = q.embedded_tokens;
  }
  if (BITNET_HAS_FIELD(&q, bitnet_source_query, file)) out.file = str(q.file);
  return out;
}

class Source {
 public:
  virtual ~Source() = default;
  // nullopt when this source has nothing for the query, with `note` saying what it looked at;
  // throw Error when what it found is bad.
  virtual std::optional<SourceResult> resolve(const Query& query, std::string& note) = 0;
};

namespace detail {
// Deriving from the C struct lets result_destroy get back to the owner with a static_cast.
struct OwnedSourceResult : bitnet_source_result {
  SourceResult strings;
};
}  // namespace detail

}  // namespace bitnet::sdk

struct bitnet_source {
  std::unique_ptr<bitnet::sdk::Source> impl;
};

namespace bitnet::sdk {

// Factory provides: static std::unique_ptr<Source> create(const char* config_json).
template <class Factory>
const bitnet_source_api* source_api() {
  static const bitnet_source_api api = [] {
    bitnet_source_api a{};
    a.struct_size = sizeof(a);
    a.status_code = [](const bitnet_status* s) { return status_code(s); };
    a.status_message = [](const bitnet_status* s) { return status_message(s); };
    a.status_destroy = [](bitnet_status* s) { status_destroy(s); };
    a.source_create = [](bitnet_source_create_args* args) {
      return guard([&] {
        if (!args) throw Error(BITNET_STATUS_INVALID_ARGUMENT, "source_create: args is NULL");
        args->source = nullptr;
        auto impl = Factory::create(args->config_json);
        args->source = new bitnet_source{std::move(impl)};
      });
    };
    a.source_destroy = [](bitnet_source* s) { delete s; };
    a.resolve = [](bitnet_source_resolve_args* args) {
      return guard([&] {
        if (!args || !args->source || !args->query)
          throw Error(BITNET_STATUS_INVALID_ARGUMENT, "resolve: NULL argument");
        args->result = nullptr;
        std::string note;
        std::optional<SourceResult> found =
            args->source->impl->resolve(read_query(*args->query), note);
        if (!found) {
          if (BITNET_HAS_FIELD(args, bitnet_source_resolve_args, note))
            copy_message(args->note, note.c_str());
          return;
        }
        auto owned = std::make_unique<detail::OwnedSourceResult>();
        owned->strings = std::move(*found);
        const SourceResult& s = owned->strings;
        bitnet_source_result& c = *owned;
        c = bitnet_source_result{sizeof(bitnet_source_result), s.format, s.path.c_str(),
                                 s.config_path.empty() ? nullptr : s.config_path.c_str(),
                                 s.origin.c_str()};
        args->result = owned.release();
      });
    };
    a.result_destroy = [](bitnet_source_result* r) {
      delete static_cast<detail::OwnedSourceResult*>(r);
    };
    return a;
  }();
  return &api;
}

}  // namespace bitnet::sdk
