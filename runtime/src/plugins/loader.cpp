#include "loader.hpp"

#include <bitnet/runtime/plugins/host_services.hpp>
#include <bitnet/runtime/plugins/negotiation.hpp>

#include <boost/dll/shared_library.hpp>

#include <dlfcn.h>

#include <cstddef>
#include <deque>
#include <mutex>

namespace bitnet::plugins {
namespace {

// The ABI 1.0 sizes of the kind tables. Fixed numbers, not sizeof: the structs grow.
constexpr size_t kBackendApiV1Size =
    offsetof(bitnet_backend_api, synchronize) + sizeof(bitnet_backend_api::synchronize);
constexpr size_t kSourceApiV1Size =
    offsetof(bitnet_source_api, result_destroy) + sizeof(bitnet_source_api::result_destroy);

// Loaded libraries are never unloaded: they are kept here until the process exits.
boost::dll::shared_library& keep_loaded(boost::dll::shared_library lib) {
  static auto* libs = new std::deque<boost::dll::shared_library>();
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  return libs->emplace_back(std::move(lib));
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

std::string missing_backend_entry(const bitnet_backend_api& a) {
  if (!a.status_code || !a.status_message || !a.status_destroy) return "status_*";
  if (!a.device_count) return "device_count";
  if (!a.backend_create || !a.backend_destroy) return "backend_create/backend_destroy";
  if (!a.get_props) return "get_props";
  if (!a.supports_op) return "supports_op";
  if (!a.buffer_alloc || !a.buffer_free) return "buffer_alloc/buffer_free";
  if (!a.buffer_upload || !a.buffer_download) return "buffer_upload/buffer_download";
  if (!a.graph_compute) return "graph_compute";
  return {};
}

std::string missing_source_entry(const bitnet_source_api& a) {
  if (!a.status_code || !a.status_message || !a.status_destroy) return "status_*";
  if (!a.source_create || !a.source_destroy) return "source_create/source_destroy";
  if (!a.resolve || !a.result_destroy) return "resolve/result_destroy";
  return {};
}

// Checks the table init returned and stores it in the record; returns why it is unusable.
std::string accept_table(PluginRecord& r, const void* api) {
  if (!api) return "init succeeded but returned no table";
  if (r.kind == BITNET_PLUGIN_KIND_BACKEND) {
    const auto* a = static_cast<const bitnet_backend_api*>(api);
    if (a->struct_size < kBackendApiV1Size)
      return "backend table is " + std::to_string(a->struct_size) + " bytes, smaller than ABI " +
             "1.0's " + std::to_string(kBackendApiV1Size);
    if (std::string m = missing_backend_entry(*a); !m.empty())
      return "backend table lacks the required entry " + m;
    r.backend = a;
  } else {
    const auto* a = static_cast<const bitnet_source_api*>(api);
    if (a->struct_size < kSourceApiV1Size)
      return "tokenizer-source table is " + std::to_string(a->struct_size) +
             " bytes, smaller than ABI 1.0's " + std::to_string(kSourceApiV1Size);
    if (std::string m = missing_source_entry(*a); !m.empty())
      return "tokenizer-source table lacks the required entry " + m;
    r.source = a;
  }
  return {};
}

PluginRecord rejected(PluginRecord r, std::string why) {
  r.loaded = false;
  r.rejection = std::move(why);
  return r;
}

}  // namespace

PluginRecord load_plugin(const std::filesystem::path& file,
                         std::span<const bitnet_abi_version> offered, const AdmitFn& admit) {
  PluginRecord r;
  r.path = file;

  boost::dll::fs::error_code ec;
  boost::dll::shared_library lib(file, boost::dll::load_mode::rtld_now, ec);
  if (ec) {
    // Boost.DLL's error code says only that loading failed; dlopen's own message names the
    // cause (a missing dependency, a bad ELF header), so ask it once more for that.
    std::string detail = ec.message();
    if (void* h = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL)) {
      dlclose(h);
    } else if (const char* e = dlerror()) {
      detail = e;
    }
    return rejected(std::move(r), "cannot load the library: " + detail);
  }
  boost::dll::shared_library& kept = keep_loaded(std::move(lib));

  if (!kept.has(BITNET_PLUGIN_NEGOTIATE_SYMBOL))
    return rejected(std::move(r), std::string("missing entry point ") +
                                      BITNET_PLUGIN_NEGOTIATE_SYMBOL +
                                      "; is this a bitnet plugin? (see the SDK's README.md)");
  auto negotiate = kept.get<void(bitnet_negotiate_args*)>(BITNET_PLUGIN_NEGOTIATE_SYMBOL);
  bitnet_negotiate_args nargs{};
  nargs.struct_size = sizeof(nargs);
  nargs.host_versions = offered.data();
  nargs.n_host_versions = offered.size();
  negotiate(&nargs);
  const bitnet_plugin_info* info = nargs.info;
  if (!info || info->struct_size < offsetof(bitnet_plugin_info, abi) + sizeof(info->abi))
    return rejected(std::move(r), "negotiate returned no plugin description");
  r.name = info->name ? info->name : "";
  r.version = info->version ? info->version : "";
  r.description = info->description ? info->description : "";
  r.kind = info->kind;
  r.built = info->abi;

  for (const char* sym : {BITNET_PLUGIN_SCORE_SYMBOL, BITNET_PLUGIN_INIT_SYMBOL})
    if (!kept.has(sym))
      return rejected(std::move(r), std::string("missing entry point ") + sym +
                                        "; every plugin exports negotiate, score and init (see "
                                        "the SDK's README.md)");
  auto score = kept.get<void(bitnet_score_args*)>(BITNET_PLUGIN_SCORE_SYMBOL);
  auto init = kept.get<int32_t(bitnet_init_args*)>(BITNET_PLUGIN_INIT_SYMBOL);
  if (!valid_name(r.name))
    return rejected(std::move(r),
                    "plugin name '" + r.name + "' is not 1-64 characters of a-z, 0-9 and '-'");
  if (r.kind != BITNET_PLUGIN_KIND_BACKEND && r.kind != BITNET_PLUGIN_KIND_TOKENIZER_SOURCE)
    return rejected(std::move(r), "unknown plugin kind " + std::to_string(r.kind));
  Result<bitnet_abi_version> version = accept_version(offered, info->abi, nargs.chosen);
  if (!version) return rejected(std::move(r), version.error().message);
  r.negotiated = *version;
  if (std::string why = admit ? admit(r) : std::string(); !why.empty())
    return rejected(std::move(r), why);

  bitnet_score_args sargs{};
  sargs.struct_size = sizeof(sargs);
  score(&sargs);
  sargs.reason[sizeof(sargs.reason) - 1] = '\0';
  r.score = sargs.score;
  r.score_reason = sargs.reason;
  if (r.score <= 0)
    return rejected(std::move(r),
                    "score 0 on this machine" +
                        (r.score_reason.empty() ? std::string() : ": " + r.score_reason));

  bitnet_init_args iargs{};
  iargs.struct_size = sizeof(iargs);
  iargs.abi = r.negotiated;
  iargs.host = host_services_for(r.name);
  const int32_t code = init(&iargs);
  iargs.error[sizeof(iargs.error) - 1] = '\0';
  if (code != BITNET_STATUS_OK)
    return rejected(std::move(r), "init failed (status " + std::to_string(code) + ")" +
                                      (iargs.error[0] ? std::string(": ") + iargs.error : ""));
  if (std::string why = accept_table(r, iargs.api); !why.empty())
    return rejected(std::move(r), why);
  r.loaded = true;
  return r;
}

}  // namespace bitnet::plugins
