#include <bitnet/runtime/log.hpp>
#include <bitnet/runtime/model/forward.hpp>
#include <bitnet/runtime/model/model.hpp>
#include <bitnet/sdk/ops.hpp>
#include <bitnet/sdk/types.hpp>

#include <set>

namespace bitnet::model {
namespace {

std::string gib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / (1ull << 30));
  return buf;
}

// One line per backend plugin that scored 0 here (a GPU plugin on a machine without a GPU), so
// a user who expected it learns why another backend runs.
void note_unusable_backends(const plugins::PluginHost& host, const std::string& chosen) {
  for (const plugins::PluginRecord& r : host.plugins())
    if (r.kind == BITNET_PLUGIN_KIND_BACKEND && !r.loaded && r.negotiated.major != 0 &&
        r.score <= 0)
      log::info("model", "backend ", r.name, " is not used (", r.score_reason, "); running on ",
                chosen);
}

// --backend NAME, else the best-ranked backend (host-memory ones only under force_cpu).
Result<Backend> choose_backend(const plugins::PluginHost& host, const ModelOptions& o) {
  const uint32_t flags = o.deterministic ? BITNET_BACKEND_DETERMINISTIC : 0;
  if (!o.backend.empty()) {
    Result<const plugins::PluginRecord*> p = host.choose(BITNET_PLUGIN_KIND_BACKEND, o.backend);
    if (!p) return p.error();
    return Backend::create(**p, 0, flags);
  }
  std::string tried;
  for (const plugins::PluginRecord* p : host.ranked(BITNET_PLUGIN_KIND_BACKEND)) {
    Result<Backend> b = Backend::create(*p, 0, flags);
    if (!b) {
      tried += "\n  " + p->name + ": " + b.error().message;
      continue;
    }
    if (o.force_cpu) {
      Result<BackendProps> props = b->props();
      if (!props || !props->host_memory) {
        log::info("model", "BITNET_FORCE_CPU: skipping backend ", p->name,
                  " (its memory is not host RAM)");
        tried += "\n  " + p->name + ": skipped by BITNET_FORCE_CPU";
        continue;
      }
    }
    note_unusable_backends(host, p->name);
    return b;
  }
  return make_error(BITNET_STATUS_NOT_FOUND,
                    "no backend plugin can run here" + (tried.empty() ? "" : ":" + tried) +
                        "\nrun `bitnet plugins` to see what was found and why each was rejected");
}

// Asks the backend about every node of a two-token step, so an unsupported (op, type) is an
// error now, naming the tensors, rather than a failure mid-generation.
Result<> check_support(const ArchSpec& arch, const Hparams& h, const Weights& w, Backend& backend,
                       const KvCache& kv) {
  StepGraph step;
  build_forward(step, arch, h, w, kv, {.n_past = 0, .n_tokens = 2});
  std::set<std::string> missing;
  for (const bitnet_tensor* node : step.graph.nodes())
    if (!backend.supports(*node)) {
      std::string what = std::string(sdk::op_name(node->op));
      if (node->src[0])
        what += " of " + std::string(sdk::type_name(node->src[0]->type)) + " " +
                (node->src[0]->name ? node->src[0]->name : "");
      missing.insert(what);
    }
  if (missing.empty()) return {};
  std::string msg = "backend '" + backend.plugin_name() + "' cannot run this model:";
  size_t shown = 0;
  for (const std::string& m : missing)
    if (shown++ < 8) msg += "\n  " + m;
  if (missing.size() > 8) msg += "\n  ... and " + std::to_string(missing.size() - 8) + " more";
  msg += "\nchoose another backend with --backend (see `bitnet plugins` for what each runs)";
  return make_error(BITNET_STATUS_UNSUPPORTED, msg);
}

}  // namespace

Result<std::unique_ptr<Model>> Model::load(const std::filesystem::path& path,
                                           const plugins::PluginHost& host,
                                           const ModelOptions& options) {
  Result<gguf::Reader> reader = gguf::Reader::open(path);
  if (!reader) return reader.error();
  const gguf::Value* name = reader->find("general.architecture");
  const std::string arch_name = name && name->as_string() ? std::string(*name->as_string()) : "";
  const ArchSpec* arch = find_architecture(arch_name);
  if (!arch)
    return make_error(BITNET_STATUS_UNSUPPORTED, path.string() + ": architecture '" + arch_name +
                                                     "' is not one this runtime runs (" +
                                                     architecture_names() + ")");
  Result<Hparams> h = require_hparams(*reader, *arch);
  if (!h) return h.error();
  Result<Backend> backend = choose_backend(host, options);
  if (!backend) return backend.error();
  log::debug("model", "backend ", backend->plugin_name(), " runs ", path.string());

  const int64_t n_ctx = options.n_ctx > 0 ? options.n_ctx : h->n_ctx;
  uint64_t weight_bytes = 0;
  for (const gguf::TensorInfo& t : reader->tensors())
    weight_bytes += t.bytes;
  const uint64_t needed = weight_bytes + KvCache::bytes_needed(*h, n_ctx);
  if (Result<BackendProps> props = backend->props();
      props && !props->host_memory && props->memory_free && needed > props->memory_free)
    return make_error(BITNET_STATUS_OUT_OF_MEMORY,
                      "needs " + gib(needed) + ", " + gib(props->memory_free) + " free on " +
                          backend->plugin_name() + " device 0 (" + props->device_name +
                          "); a smaller --ctx or another --backend needs less");

  Result<Weights> weights = Weights::upload(*reader, *backend);
  if (!weights) return weights.error();
  if (Result<> r = check_weights(*arch, *h, *weights); !r) return r.error();
  {
    // A two-position cache is enough to describe the graph to supports_op.
    Result<KvCache> probe_kv = KvCache::create(*backend, *h, 2);
    if (!probe_kv) return probe_kv.error();
    if (Result<> r = check_support(*arch, *h, *weights, *backend, *probe_kv); !r) return r.error();
  }
  return std::unique_ptr<Model>(
      new Model(std::move(*reader), arch, *h, std::move(*backend), std::move(*weights)));
}

}  // namespace bitnet::model
