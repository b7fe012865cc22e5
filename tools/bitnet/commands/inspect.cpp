// `bitnet inspect MODEL.gguf [--all] [--json] [--ln-stats]`: what a GGUF file holds.
#include <bitnet/runtime/gguf/norm_stats.hpp>
#include <bitnet/runtime/gguf/reader.hpp>
#include <bitnet/sdk/types.hpp>

#include <boost/json.hpp>

#include <cstdio>
#include <iostream>
#include <map>

#include "../command.hpp"

namespace bitnet::cli {
namespace {

namespace json = boost::json;
using namespace gguf;

json::value value_json(const Value& v, size_t max_items) {
  struct Visitor {
    size_t max_items;
    json::value operator()(uint64_t u) const { return u; }
    json::value operator()(int64_t i) const { return i; }
    json::value operator()(double d) const { return d; }
    json::value operator()(bool b) const { return b; }
    json::value operator()(const std::string& s) const { return json::string(s); }
    json::value operator()(const Array& a) const {
      if (a.items.size() > max_items)
        return json::object{{"type", "array"},
                            {"element_type", type_name(a.element_type)},
                            {"length", a.items.size()}};
      json::array out;
      for (const Value& item : a.items)
        out.push_back(std::visit(*this, item.data));
      return out;
    }
  };
  return std::visit(Visitor{max_items}, v.data);
}

std::string shape(const TensorInfo& t) {
  std::string s = "[";
  for (uint32_t d = 0; d < t.n_dims; ++d)
    s += (d ? ", " : "") + std::to_string(t.ne[d]);
  return s + "]";
}

std::string human_bytes(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.2f %s" : "%.0f %s", v, units[u]);
  return buf;
}

struct TypeTotal {
  size_t tensors = 0;
  uint64_t elements = 0, bytes = 0;
};

std::map<std::string, TypeTotal> totals(const Reader& r) {
  std::map<std::string, TypeTotal> out;
  for (const TensorInfo& t : r.tensors()) {
    TypeTotal& tt = out[std::string(sdk::type_name(t.type))];
    ++tt.tensors;
    tt.elements += static_cast<uint64_t>(t.elements());
    tt.bytes += t.bytes;
  }
  return out;
}

void print_text(const Reader& r, bool all, const std::vector<NormStats>* ln) {
  std::cout << r.name() << ": GGUF v" << r.version() << ", " << human_bytes(r.file_size())
            << ", alignment " << r.alignment() << ", tensor data from byte " << r.data_offset()
            << "\n\nmetadata (" << r.metadata().size() << " entries):\n";
  for (const KeyValue& kv : r.metadata()) {
    std::string key = kv.key;
    key.resize(std::max<size_t>(key.size(), 40), ' ');
    std::cout << "  " << key << " " << type_name(kv.value.type) << "  "
              << to_display(kv.value, all ? SIZE_MAX : 8) << "\n";
  }
  std::cout << "\ntensors (" << r.tensors().size() << "):\n";
  for (const TensorInfo& t : r.tensors()) {
    std::string name = t.name;
    name.resize(std::max<size_t>(name.size(), 32), ' ');
    std::string type(sdk::type_name(t.type));
    type.resize(6, ' ');
    std::string sh = shape(t);
    sh.resize(std::max<size_t>(sh.size(), 22), ' ');
    std::cout << "  " << name << " " << type << " " << sh << " " << human_bytes(t.bytes) << " at "
              << r.data_offset() + t.offset << "\n";
  }
  std::cout << "\ntotals per type:\n";
  uint64_t elements = 0, bytes = 0;
  for (const auto& [type, tt] : totals(r)) {
    std::string name = type;
    name.resize(6, ' ');
    std::cout << "  " << name << " " << tt.tensors << " tensors, " << tt.elements << " elements, "
              << human_bytes(tt.bytes) << "\n";
    elements += tt.elements;
    bytes += tt.bytes;
  }
  std::cout << "  total  " << r.tensors().size() << " tensors, " << elements << " elements, "
            << human_bytes(bytes) << "\n";
  if (!ln) return;
  std::cout << "\nnorm weights (RMS, mean, min, max; ratio to the median RMS of their kind):\n";
  if (ln->empty()) std::cout << "  none (no F32/F16/BF16 tensor has 'norm' in its name)\n";
  size_t flagged = 0;
  for (const NormStats& s : *ln) {
    char line[256];
    std::snprintf(line, sizeof line,
                  "  %-34s rms %-10.4g mean %-10.4g min %-10.4g max %-10.4g x%.2f",
                  s.tensor.c_str(), s.rms, s.mean, s.min, s.max, s.ratio_to_median);
    std::cout << line << (s.outlier ? "  <-- OUTLIER" : "") << "\n";
    flagged += s.outlier;
  }
  if (flagged)
    std::cout << "\n"
              << flagged << " norm tensor(s) have an RMS far from the other layers' "
              << "(more than 4x off the median): the conversion that wrote this file is suspect\n";
}

json::object to_json(const Reader& r, bool all, const std::vector<NormStats>* ln) {
  json::array meta;
  for (const KeyValue& kv : r.metadata())
    meta.push_back(json::object{{"key", kv.key},
                                {"type", type_name(kv.value.type)},
                                {"value", value_json(kv.value, all ? SIZE_MAX : 64)}});
  json::array tensors;
  for (const TensorInfo& t : r.tensors()) {
    json::array ne;
    for (uint32_t d = 0; d < t.n_dims; ++d)
      ne.push_back(t.ne[d]);
    tensors.push_back(json::object{{"name", t.name},
                                   {"type", sdk::type_name(t.type)},
                                   {"shape", std::move(ne)},
                                   {"bytes", t.bytes},
                                   {"offset", r.data_offset() + t.offset}});
  }
  json::object per_type;
  for (const auto& [type, tt] : totals(r))
    per_type[type] =
        json::object{{"tensors", tt.tensors}, {"elements", tt.elements}, {"bytes", tt.bytes}};
  json::object out{{"file", r.name()},
                   {"version", r.version()},
                   {"file_size", r.file_size()},
                   {"alignment", r.alignment()},
                   {"data_offset", r.data_offset()},
                   {"metadata", std::move(meta)},
                   {"tensors", std::move(tensors)},
                   {"totals", std::move(per_type)}};
  if (ln) {
    json::array stats;
    for (const NormStats& s : *ln)
      stats.push_back(
          json::object{{"tensor", s.tensor},
                       {"layer", s.layer ? json::value(*s.layer) : json::value(nullptr)},
                       {"rms", s.rms},
                       {"mean", s.mean},
                       {"min", s.min},
                       {"max", s.max},
                       {"ratio_to_median", s.ratio_to_median},
                       {"outlier", s.outlier}});
    out["ln_stats"] = std::move(stats);
  }
  return out;
}

}  // namespace

int run_inspect(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("options");
  options.add_options()("model", po::value<std::string>()->required(), "the GGUF file")(
      "all", "print long arrays in full")("json", "print JSON instead of text")(
      "ln-stats", "statistics of every norm weight, flagging layers far from the rest");
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse(args, "MODEL.gguf [--all] [--json] [--ln-stats]", options, vm, &positional))
    return kExitOk;
  Result<Reader> r = Reader::open(vm["model"].as<std::string>());
  if (!r) {
    std::cerr << "bitnet inspect: " << r.error().message << "\n";
    return kExitRuntimeError;
  }
  std::optional<std::vector<NormStats>> ln;
  if (vm.count("ln-stats")) ln = norm_stats(*r);
  if (vm.count("json")) {
    std::cout << json::serialize(to_json(*r, vm.count("all") > 0, ln ? &*ln : nullptr)) << "\n";
  } else {
    print_text(*r, vm.count("all") > 0, ln ? &*ln : nullptr);
  }
  return kExitOk;
}

}  // namespace bitnet::cli
