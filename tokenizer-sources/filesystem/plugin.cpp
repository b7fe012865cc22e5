// filesystem: tokenizer files on disk. One instance serves one step of the discovery chain, set
// by its config {"mode": "explicit" | "sibling" | "parent" | "dirs", "dirs": [...]}:
//   explicit  the user's --tokenizer (a file, or a folder holding tokenizer.json); missing is
//             an error, not a miss, because the user asked for exactly that
//   sibling   tokenizer.json (else tokenizer.model) in the model's folder
//   parent    the same in the folder above it
//   dirs      each configured folder: <dir>/<cache key>/, <dir>/<model name>/, then <dir>/
#include <bitnet/sdk/plugin.hpp>
#include <bitnet/sdk/tokenizer_source.hpp>

#include <boost/json.hpp>

#include <filesystem>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using bitnet::sdk::Error;
using bitnet::sdk::SourceResult;

enum class Mode { explicit_path, sibling, parent, dirs };

int32_t format_of(const fs::path& p) {
  const std::string ext = p.extension().string();
  if (ext == ".model") return BITNET_TOKENIZER_FORMAT_SPM_MODEL;
  if (ext == ".gguf") return BITNET_TOKENIZER_FORMAT_GGUF;
  return BITNET_TOKENIZER_FORMAT_HF_JSON;
}

std::string config_beside(const fs::path& file) {
  std::error_code ec;
  const fs::path c = file.parent_path() / "tokenizer_config.json";
  return fs::is_regular_file(c, ec) ? c.string() : std::string();
}

// tokenizer.json, else tokenizer.model, in `dir`; `looked` collects what was tried.
std::optional<fs::path> in_folder(const fs::path& dir, std::vector<std::string>& looked) {
  std::error_code ec;
  for (const char* name : {"tokenizer.json", "tokenizer.model"}) {
    const fs::path p = dir / name;
    if (fs::is_regular_file(p, ec)) return p;
  }
  looked.push_back(dir.string());
  return std::nullopt;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v)
    out.append(out.empty() ? "" : ", ").append(s);
  return out;
}

class FilesystemSource final : public bitnet::sdk::Source {
 public:
  FilesystemSource(Mode mode, std::vector<fs::path> dirs) : mode_(mode), dirs_(std::move(dirs)) {}

  std::optional<SourceResult> resolve(const bitnet::sdk::Query& q, std::string& note) override {
    std::vector<std::string> looked;
    std::optional<fs::path> found;
    std::error_code ec;
    const fs::path model_dir = fs::absolute(fs::path(q.model_path), ec).parent_path();
    switch (mode_) {
      case Mode::explicit_path:
        if (q.explicit_path.empty()) {
          note = "no --tokenizer was given";
          return std::nullopt;
        }
        return explicit_file(q.explicit_path);
      case Mode::sibling:
        if (q.model_path.empty()) break;
        found = in_folder(model_dir, looked);
        break;
      case Mode::parent:
        if (q.model_path.empty()) break;
        found = in_folder(model_dir.parent_path(), looked);
        break;
      case Mode::dirs:
        for (const fs::path& d : dirs_) {
          if (!q.cache_key.empty() && (found = in_folder(d / q.cache_key, looked))) break;
          if (!q.model_path.empty() &&
              (found = in_folder(d / fs::path(q.model_path).stem(), looked)))
            break;
          if ((found = in_folder(d, looked))) break;
        }
        if (dirs_.empty()) note = "no directories are configured (\"dirs\" in the config)";
        break;
    }
    if (found) {
      const fs::path p = fs::weakly_canonical(*found);
      return SourceResult{format_of(p), p.string(), config_beside(p), "the file " + p.string()};
    }
    if (note.empty())
      note = q.model_path.empty() ? "no model file was given"
                                  : "no tokenizer.json or tokenizer.model in " + joined(looked);
    return std::nullopt;
  }

 private:
  static SourceResult explicit_file(const fs::path& given) {
    std::error_code ec;
    fs::path p = given;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> looked;
      const auto inside = in_folder(p, looked);
      if (!inside)
        throw Error(BITNET_STATUS_NOT_FOUND, "--tokenizer " + given.string() +
                                                 " is a folder without tokenizer.json or "
                                                 "tokenizer.model");
      p = *inside;
    } else if (!fs::is_regular_file(p, ec)) {
      throw Error(BITNET_STATUS_NOT_FOUND, "--tokenizer " + given.string() +
                                               " does not exist; give a tokenizer.json, "
                                               "tokenizer.model or GGUF file, or a folder "
                                               "holding one");
    }
    p = fs::weakly_canonical(p);
    return SourceResult{format_of(p), p.string(), config_beside(p), "--tokenizer " + p.string()};
  }

  Mode mode_;
  std::vector<fs::path> dirs_;
};

struct Factory {
  static std::unique_ptr<bitnet::sdk::Source> create(const char* config) {
    const std::string what = "filesystem source config";
    boost::system::error_code ec;
    const json::value v = json::parse(config ? config : "{}", ec);
    if (ec || !v.is_object())
      throw Error(BITNET_STATUS_INVALID_ARGUMENT, what + " is not a JSON object");
    const json::object& o = v.as_object();
    const json::value* m = o.if_contains("mode");
    const std::string mode = m && m->is_string() ? std::string(m->as_string()) : "sibling";
    std::vector<fs::path> dirs;
    if (const json::value* d = o.if_contains("dirs")) {
      if (!d->is_array())
        throw Error(BITNET_STATUS_INVALID_ARGUMENT, what + ": \"dirs\" must be a list of folders");
      for (const json::value& e : d->as_array()) {
        if (!e.is_string())
          throw Error(BITNET_STATUS_INVALID_ARGUMENT, what + ": \"dirs\" must hold strings");
        dirs.emplace_back(std::string(e.as_string()));
      }
    }
    if (mode == "explicit") return std::make_unique<FilesystemSource>(Mode::explicit_path, dirs);
    if (mode == "sibling") return std::make_unique<FilesystemSource>(Mode::sibling, dirs);
    if (mode == "parent") return std::make_unique<FilesystemSource>(Mode::parent, dirs);
    if (mode == "dirs") return std::make_unique<FilesystemSource>(Mode::dirs, dirs);
    throw Error(BITNET_STATUS_INVALID_ARGUMENT,
                what + ": mode '" + mode + "' is not explicit, sibling, parent or dirs");
  }
};

bitnet::sdk::Score score() {
  return {10, "local files only"};
}

const void* init(const bitnet::sdk::Host&) {
  return bitnet::sdk::source_api<Factory>();
}

constexpr bitnet::sdk::PluginDefinition kPlugin{
    bitnet::sdk::make_info("filesystem", BITNET_PLUGIN_VERSION, BITNET_PLUGIN_KIND_TOKENIZER_SOURCE,
                           "tokenizer.json or tokenizer.model given, beside the model, above it "
                           "or in configured folders"),
    &score, &init};

}  // namespace

BITNET_SDK_EXPORT_PLUGIN(kPlugin)
