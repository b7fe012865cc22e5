// The three exported entry points, written once. A plugin describes itself in a
// PluginDefinition and says BITNET_SDK_EXPORT_PLUGIN(definition) in one .cpp file compiled
// without ISA flags.
#pragma once

#include <bitnet/abi.h>
#include <bitnet/sdk/host.hpp>
#include <bitnet/sdk/status.hpp>

#include <algorithm>
#include <cstddef>
#include <string>

namespace bitnet::sdk {

struct Score {
  int32_t score;
  std::string reason;
};

struct PluginDefinition {
  bitnet_plugin_info info;
  Score (*score)();                       // cheap: no allocations of note, no ISA extensions
  const void* (*init)(const Host& host);  // returns the kind's api table; may throw Error
};

constexpr bitnet_plugin_info make_info(const char* name, const char* version, int32_t kind,
                                       const char* description,
                                       bitnet_abi_version abi = {BITNET_ABI_MAJOR,
                                                                 BITNET_ABI_MINOR}) {
  return bitnet_plugin_info{sizeof(bitnet_plugin_info), name, version, kind, description, abi};
}

// The host services this plugin received at init; empty (logging off, serial loops) before.
inline Host& plugin_host() {
  static Host host;
  return host;
}

namespace detail {

inline void negotiate(const PluginDefinition& def, bitnet_negotiate_args* a) {
  if (!a || !BITNET_HAS_FIELD(a, bitnet_negotiate_args, info)) return;
  a->info = &def.info;
  a->chosen = {0, 0};
  for (size_t i = 0; i < a->n_host_versions; ++i) {
    const bitnet_abi_version h = a->host_versions[i];
    if (h.major == def.info.abi.major) a->chosen = {h.major, std::min(h.minor, def.info.abi.minor)};
  }
}

inline void score(const PluginDefinition& def, bitnet_score_args* a) {
  if (!a || !BITNET_HAS_FIELD(a, bitnet_score_args, reason)) return;
  try {
    Score s = def.score();
    a->score = s.score;
    copy_message(a->reason, s.reason.c_str());
  } catch (...) {
    a->score = 0;
    copy_message(a->reason, "score check threw an exception");
  }
}

inline int32_t init(const PluginDefinition& def, bitnet_init_args* a) {
  if (!a || !BITNET_HAS_FIELD(a, bitnet_init_args, error)) return BITNET_STATUS_INVALID_ARGUMENT;
  a->error[0] = '\0';
  a->api = nullptr;
  bitnet_status* st = guard([&] {
    plugin_host() = Host(a->host);
    a->api = def.init(plugin_host());
  });
  if (!st) return BITNET_STATUS_OK;
  const int32_t code = status_code(st);
  copy_message(a->error, status_message(st));
  status_destroy(st);
  return code;
}

}  // namespace detail
}  // namespace bitnet::sdk

#define BITNET_SDK_EXPORT_PLUGIN(DEF)                                                         \
  extern "C" BITNET_PLUGIN_EXPORT void bitnet_plugin_negotiate(bitnet_negotiate_args* args) { \
    ::bitnet::sdk::detail::negotiate((DEF), args);                                            \
  }                                                                                           \
  extern "C" BITNET_PLUGIN_EXPORT void bitnet_plugin_score(bitnet_score_args* args) {         \
    ::bitnet::sdk::detail::score((DEF), args);                                                \
  }                                                                                           \
  extern "C" BITNET_PLUGIN_EXPORT int32_t bitnet_plugin_init(bitnet_init_args* args) {        \
    return ::bitnet::sdk::detail::init((DEF), args);                                          \
  }
