#include <bitnet/runtime/convert/safetensors.hpp>
#include <bitnet/sdk/half.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cstring>
#include <set>

#include "json_file.hpp"

namespace bitnet::convert {
namespace {

namespace json = boost::json;

Error bad(const std::string& file, const std::string& what) {
  return make_error(BITNET_STATUS_INVALID_ARGUMENT, file + ": " + what);
}

std::optional<Dtype> parse_dtype(std::string_view s) {
  if (s == "F32") return Dtype::f32;
  if (s == "F16") return Dtype::f16;
  if (s == "BF16") return Dtype::bf16;
  return std::nullopt;
}

// The key literals of the root object, in order. json::parse keeps only the last of duplicate
// keys, so duplicate tensor names are found on the text; it has parsed already, so the text is
// well-formed JSON.
std::vector<std::string> root_keys(std::string_view text) {
  std::vector<std::string> keys;
  int depth = 0;
  bool expect_key = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      size_t end = i + 1;
      while (text[end] != '"')
        end += text[end] == '\\' ? 2 : 1;
      if (depth == 1 && expect_key) {
        // The literal is decoded by the JSON parser so "\u0061" and "a" are the same key.
        keys.push_back(std::string(json::parse(text.substr(i, end - i + 1)).as_string()));
        expect_key = false;
      }
      i = end;
    } else if (c == '{' || c == '[') {
      expect_key = ++depth == 1;
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == ',' && depth == 1) {
      expect_key = true;
    }
  }
  return keys;
}

Result<uint64_t> count(const json::value& v, const std::string& file, const std::string& what) {
  if (v.is_uint64()) return v.as_uint64();
  if (v.is_int64() && v.as_int64() >= 0) return static_cast<uint64_t>(v.as_int64());
  return bad(file, what + " is " + json::serialize(v) + ", not a non-negative integer");
}

struct Span {
  uint64_t begin, end;
  size_t tensor;
};

Result<SafeTensor> parse_tensor(const std::string& file, const std::string& name,
                                const json::value& v, std::span<const std::byte> data,
                                std::vector<Span>& spans) {
  const std::string where = "tensor '" + name + "'";
  const json::object* o = v.if_object();
  if (!o) return bad(file, where + " is not a JSON object with dtype, shape and data_offsets");
  const json::value* dtype = o->if_contains("dtype");
  const json::value* shape = o->if_contains("shape");
  const json::value* offsets = o->if_contains("data_offsets");
  if (!dtype || !dtype->is_string() || !shape || !shape->is_array() || !offsets ||
      !offsets->is_array() || offsets->as_array().size() != 2)
    return bad(file, where +
                         " needs \"dtype\" (a string), \"shape\" (an array) and "
                         "\"data_offsets\" (two integers)");
  SafeTensor t;
  t.name = name;
  const std::string dt(dtype->as_string());
  const std::optional<Dtype> d = parse_dtype(dt);
  if (!d)
    return bad(file, where + " has dtype " + dt +
                         "; only F32, F16 and BF16 are read (a quantised or packed checkpoint "
                         "must be converted from its float original)");
  t.dtype = *d;
  uint64_t elements = 1;
  for (size_t i = 0; i < shape->as_array().size(); ++i) {
    Result<uint64_t> n =
        count(shape->as_array()[i], file, where + " shape[" + std::to_string(i) + "]");
    if (!n) return n.error();
    if (*n > static_cast<uint64_t>(INT64_MAX) || __builtin_mul_overflow(elements, *n, &elements))
      return bad(file, where + " has a shape whose element count overflows 64 bits");
    t.shape.push_back(static_cast<int64_t>(*n));
  }
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(elements, dtype_size(t.dtype), &bytes))
    return bad(file, where + " has a shape whose byte size overflows 64 bits");
  Result<uint64_t> begin = count(offsets->as_array()[0], file, where + " data_offsets[0]");
  if (!begin) return begin.error();
  Result<uint64_t> end = count(offsets->as_array()[1], file, where + " data_offsets[1]");
  if (!end) return end.error();
  if (*begin > *end)
    return bad(file, where + " has data_offsets [" + std::to_string(*begin) + ", " +
                         std::to_string(*end) + "] that end before they begin");
  if (*end > data.size())
    return bad(file, where + " has data_offsets ending at " + std::to_string(*end) +
                         ", past the data section's " + std::to_string(data.size()) +
                         " bytes (the file is truncated or the header is wrong)");
  if (*end - *begin != bytes)
    return bad(file, where + " spans " + std::to_string(*end - *begin) + " bytes but its shape " +
                         json::serialize(*shape) + " of " + dt + " needs " + std::to_string(bytes));
  t.data = data.subspan(*begin, bytes);
  spans.push_back({*begin, *end, spans.size()});
  return t;
}

}  // namespace

std::string_view dtype_name(Dtype d) {
  return d == Dtype::f32 ? "F32" : d == Dtype::f16 ? "F16" : "BF16";
}

size_t dtype_size(Dtype d) {
  return d == Dtype::f32 ? 4 : 2;
}

int64_t SafeTensor::elements() const {
  return static_cast<int64_t>(data.size() / dtype_size(dtype));
}

std::vector<float> to_f32(const SafeTensor& t) {
  std::vector<float> out(static_cast<size_t>(t.elements()));
  if (t.dtype == Dtype::f32) {
    std::memcpy(out.data(), t.data.data(), t.data.size());
    return out;
  }
  for (size_t i = 0; i < out.size(); ++i) {
    uint16_t h;
    std::memcpy(&h, t.data.data() + 2 * i, 2);
    out[i] = t.dtype == Dtype::f16 ? sdk::fp16_to_f32(h) : sdk::bf16_to_f32(h);
  }
  return out;
}

Result<SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
  Result<MappedFile> file = MappedFile::open(path);
  if (!file) return file.error();
  Result<SafetensorsFile> r = parse(file->bytes(), path.string());
  if (!r) return r;
  r->file_ = std::move(*file);
  return r;
}

Result<SafetensorsFile> SafetensorsFile::parse(std::span<const std::byte> bytes, std::string name) {
  SafetensorsFile f;
  f.name_ = std::move(name);
  const std::string& file = f.name_;
  if (bytes.size() < 8)
    return bad(file, "the file has " + std::to_string(bytes.size()) +
                         " bytes, fewer than the 8-byte header length every safetensors file "
                         "starts with (it is truncated or not a safetensors file)");
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  if (n > kMaxSafetensorsHeader)
    return bad(file, "the header length " + std::to_string(n) + " is over the " +
                         std::to_string(kMaxSafetensorsHeader) +
                         "-byte limit (the file is corrupt or not a safetensors file)");
  if (n > bytes.size() - 8)
    return bad(file, "the header length " + std::to_string(n) + " runs past the end of the file (" +
                         std::to_string(bytes.size() - 8) +
                         " bytes follow it; the file is truncated or corrupt)");
  const std::string_view text(reinterpret_cast<const char*>(bytes.data() + 8), n);
  boost::system::error_code ec;
  const json::value root = json::parse(text, ec);
  if (ec) return bad(file, "the JSON header does not parse: " + ec.message());
  if (!root.is_object()) return bad(file, "the JSON header is not an object");
  std::set<std::string> seen;
  for (std::string& key : root_keys(text))
    if (!seen.insert(key).second) return bad(file, "the header names '" + key + "' twice");

  const std::span<const std::byte> data = bytes.subspan(8 + n);
  std::vector<Span> spans;
  for (const auto& [k, v] : root.as_object()) {
    const std::string key(k);
    if (key == "__metadata__") {
      if (!v.is_object()) return bad(file, "__metadata__ is not an object");
      for (const auto& [mk, mv] : v.as_object()) {
        if (!mv.is_string())
          return bad(file, "__metadata__['" + std::string(mk) + "'] is not a string");
        f.metadata_.emplace(std::string(mk), std::string(mv.as_string()));
      }
      continue;
    }
    Result<SafeTensor> t = parse_tensor(file, key, v, data, spans);
    if (!t) return t.error();
    f.tensors_.push_back(std::move(*t));
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 1; i < spans.size(); ++i)
    if (spans[i].begin < spans[i - 1].end)
      return bad(file, "tensors '" + f.tensors_[spans[i - 1].tensor].name + "' and '" +
                           f.tensors_[spans[i].tensor].name +
                           "' overlap in the data section (bytes " +
                           std::to_string(spans[i].begin) + " to " +
                           std::to_string(std::min(spans[i].end, spans[i - 1].end)) + ")");
  std::sort(f.tensors_.begin(), f.tensors_.end(),
            [](const SafeTensor& a, const SafeTensor& b) { return a.name < b.name; });
  return f;
}

const SafeTensor* SafetensorsFile::find(std::string_view name) const {
  const auto it =
      std::lower_bound(tensors_.begin(), tensors_.end(), name,
                       [](const SafeTensor& t, std::string_view n) { return t.name < n; });
  return it != tensors_.end() && it->name == name ? &*it : nullptr;
}

Result<Checkpoint> Checkpoint::open(const std::filesystem::path& dir) {
  Checkpoint c;
  const auto index_path = dir / "model.safetensors.index.json";
  const auto single = dir / "model.safetensors";
  std::error_code ec;
  std::map<std::string, std::string> weight_map;
  std::vector<std::string> shards;
  if (std::filesystem::exists(index_path, ec)) {
    Result<json::object> index = read_json_object(index_path);
    if (!index) return index.error();
    const json::value* map = index->if_contains("weight_map");
    if (!map || !map->is_object())
      return bad(index_path.string(), "no \"weight_map\" object (tensor name to shard file)");
    for (const auto& [k, v] : map->as_object()) {
      const std::string s = v.is_string() ? std::string(v.as_string()) : "";
      // Shards are plain names inside the folder: a path in a downloaded index must not reach
      // files elsewhere.
      if (s.empty() || s.find('/') != std::string::npos || s == "." || s == "..")
        return bad(index_path.string(), "weight_map['" + std::string(k) + "'] is " +
                                            json::serialize(v) +
                                            ", not the file name of a shard in the folder");
      weight_map.emplace(std::string(k), s);
      if (std::find(shards.begin(), shards.end(), s) == shards.end()) shards.push_back(s);
    }
  } else if (std::filesystem::exists(single, ec)) {
    shards.push_back("model.safetensors");
  } else {
    return make_error(BITNET_STATUS_NOT_FOUND,
                      dir.string() +
                          ": no model.safetensors or model.safetensors.index.json; a HF checkpoint "
                          "folder is needed (PyTorch .bin weights must be saved as safetensors "
                          "first)");
  }
  for (const std::string& s : shards) {
    Result<SafetensorsFile> f = SafetensorsFile::open(dir / s);
    if (!f) return f.error();
    c.files_.push_back(std::make_unique<SafetensorsFile>(std::move(*f)));
    for (const SafeTensor& t : c.files_.back()->tensors())
      if (!c.index_.emplace(t.name, &t).second) {
        size_t other = 0;
        while (!c.files_[other]->find(t.name))
          ++other;
        return bad(dir.string(),
                   "tensor '" + t.name + "' is in two shards, " + shards[other] + " and " + s);
      }
  }
  for (const auto& [name, shard] : weight_map) {
    const size_t i = std::find(shards.begin(), shards.end(), shard) - shards.begin();
    if (!c.files_[i]->find(name))
      return bad(index_path.string(), "tensor '" + name + "' is listed in " + shard +
                                          " but no shard holds it (an incomplete download?)");
  }
  return c;
}

const SafeTensor* Checkpoint::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second;
}

std::vector<const SafeTensor*> Checkpoint::tensors() const {
  std::vector<const SafeTensor*> out;
  for (const auto& [name, t] : index_)
    out.push_back(t);
  return out;
}

}  // namespace bitnet::convert
