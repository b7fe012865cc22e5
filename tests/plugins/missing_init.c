/* A plugin written in plain C that forgets bitnet_plugin_init: the host must refuse it. */
#include <bitnet/abi.h>

static const bitnet_plugin_info kInfo = {
    sizeof(bitnet_plugin_info), "missing-init",         "1.0.0",
    BITNET_PLUGIN_KIND_BACKEND, "lacks an entry point", {BITNET_ABI_MAJOR, BITNET_ABI_MINOR}};

BITNET_PLUGIN_EXPORT void bitnet_plugin_negotiate(bitnet_negotiate_args* args) {
  args->info = &kInfo;
  args->chosen = kInfo.abi;
}

BITNET_PLUGIN_EXPORT void bitnet_plugin_score(bitnet_score_args* args) {
  args->score = 1;
}
