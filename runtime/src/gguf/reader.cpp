#include <bitnet/runtime/gguf/reader.hpp>
#include <bitnet/sdk/types.hpp>

#include <algorithm>
#include <cstring>
#include <unordered_set>

namespace bitnet::gguf {

// Reads the file front to back. The first problem is kept with its byte offset and every
// later read returns zero, so loops end early and nothing past the end is touched.
//
// Messages name the field as "<context>[i][j] <label>". The context (set once per metadata
// entry or tensor) and the array indices are kept apart and joined only in fail(): building a
// name per array element would cost key length x element count, which a hostile file with a
// long key and a long array turns into minutes.
class Parser {
 public:
  Parser(std::span<const std::byte> bytes, const std::string& name) : b_(bytes), name_(name) {}

  bool ok() const { return !error_; }
  size_t pos() const { return pos_; }
  size_t remaining() const { return b_.size() - pos_; }
  Error take_error() { return std::move(*error_); }
  void set_context(std::string context) { context_ = std::move(context); }

  void fail(size_t at, std::string_view label, const std::string& what) {
    if (error_) return;
    std::string field = context_;
    for (uint64_t i : indices_)
      field.append("[").append(std::to_string(i)).append("]");
    if (!label.empty()) field.append(field.empty() ? "" : " ").append(label);
    error_ = make_error(BITNET_STATUS_INVALID_ARGUMENT,
                        name_ + ": " + field + " at byte " + std::to_string(at) + ": " + what);
  }

  template <class T>
  T read(std::string_view label) {
    T v{};
    if (!ok()) return v;
    if (remaining() < sizeof(T)) {
      fail(pos_, label,
           "needs " + std::to_string(sizeof(T)) + " bytes but the file ends after " +
               std::to_string(remaining()) + " (the file is truncated or corrupt)");
      return v;
    }
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(std::string_view label) {
    const size_t at = pos_;
    const uint64_t len = read<uint64_t>(label.empty() ? "length" : label);
    if (!ok()) return {};
    if (len > remaining()) {
      fail(at, label,
           "length " + std::to_string(len) + " runs past the end of the file (" +
               std::to_string(remaining()) + " bytes left)");
      return {};
    }
    std::string s(reinterpret_cast<const char*>(b_.data() + pos_), static_cast<size_t>(len));
    pos_ += len;
    return s;
  }

  Value read_value(ValueType type, int depth) {
    switch (type) {
      case ValueType::u8:
        return Value::of(type, uint64_t{read<uint8_t>("")});
      case ValueType::i8:
        return Value::of(type, int64_t{read<int8_t>("")});
      case ValueType::u16:
        return Value::of(type, uint64_t{read<uint16_t>("")});
      case ValueType::i16:
        return Value::of(type, int64_t{read<int16_t>("")});
      case ValueType::u32:
        return Value::of(type, uint64_t{read<uint32_t>("")});
      case ValueType::i32:
        return Value::of(type, int64_t{read<int32_t>("")});
      case ValueType::u64:
        return Value::of(type, read<uint64_t>(""));
      case ValueType::i64:
        return Value::of(type, read<int64_t>(""));
      case ValueType::f32:
        return Value::of(type, double{read<float>("")});
      case ValueType::f64:
        return Value::of(type, read<double>(""));
      case ValueType::boolean: {
        const size_t at = pos_;
        const uint8_t v = read<uint8_t>("");
        if (v > 1) fail(at, "", "bool is " + std::to_string(v) + ", not 0 or 1");
        return Value::boolean(v == 1);
      }
      case ValueType::string:
        return Value::string(read_string(""));
      case ValueType::array:
        return read_array(depth + 1);
    }
    fail(pos_, "", "unknown value type");
    return {};
  }

  ValueType read_type(std::string_view label) {
    const size_t at = pos_;
    const uint32_t t = read<uint32_t>(label);
    if (ok() && t >= kValueTypeCount)
      fail(at, label, "unknown value type " + std::to_string(t) + " (known: 0-12)");
    return static_cast<ValueType>(t);
  }

  Value read_array(int depth) {
    const size_t at = pos_;
    if (depth > kMaxArrayDepth) {
      fail(at, "", "arrays nested more than " + std::to_string(kMaxArrayDepth) + " deep");
      return {};
    }
    const ValueType elem = read_type("element type");
    const uint64_t count = read<uint64_t>("element count");
    if (!ok()) return {};
    // Every element takes at least one byte (strings and arrays at least 8), so a count the
    // rest of the file cannot hold is refused before anything is allocated for it.
    const uint64_t min_size = scalar_size(elem).value_or(8);
    if (count > remaining() / min_size) {
      fail(at, "",
           "array of " + std::to_string(count) + " " + std::string(type_name(elem)) +
               " elements cannot fit in the " + std::to_string(remaining()) + " bytes left");
      return {};
    }
    // Each element becomes a Value in memory, many times its wire size; a budget over the whole
    // file keeps a small hostile file from asking for gigabytes.
    if (count > kMaxMetadataItems - items_) {
      fail(at, "",
           "metadata arrays hold more than " + std::to_string(kMaxMetadataItems) +
               " elements in all (real models hold well under a million)");
      return {};
    }
    items_ += count;
    std::vector<Value> items;
    items.reserve(static_cast<size_t>(count));
    indices_.push_back(0);
    for (uint64_t i = 0; i < count && ok(); ++i) {
      indices_.back() = i;
      items.push_back(read_value(elem, depth));
    }
    // On failure the indices stay, so the message names the element that failed.
    if (ok()) indices_.pop_back();
    return Value::array(elem, std::move(items));
  }

  void align_to(size_t alignment) {
    const size_t padded = (pos_ + alignment - 1) / alignment * alignment;
    // A file with no tensors may end right after its metadata, without padding.
    pos_ = std::min(padded, b_.size());
  }

 private:
  std::span<const std::byte> b_;
  const std::string& name_;
  size_t pos_ = 0;
  uint64_t items_ = 0;
  std::string context_;
  std::vector<uint64_t> indices_;  // at most kMaxArrayDepth deep
  std::optional<Error> error_;
};

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian uint32

Result<size_t> alignment_of(const Value& v) {
  const auto a = v.as_uint();
  if (v.type != ValueType::u32 || !a || *a == 0 || (*a & (*a - 1)) != 0 || *a > (1u << 20))
    return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                      "general.alignment must be a u32 power of two up to 1 MiB, got " +
                          std::string(type_name(v.type)) + " " + to_display(v));
  return static_cast<size_t>(*a);
}

}  // namespace

Result<Reader> Reader::open(const std::filesystem::path& path) {
  Result<MappedFile> file = MappedFile::open(path);
  if (!file) return file.error();
  Result<Reader> r = parse(file->bytes(), path.string());
  if (!r) return r;
  r->file_ = std::move(*file);
  return r;
}

Result<Reader> Reader::parse(std::span<const std::byte> bytes, std::string name) {
  Reader r;
  r.bytes_ = bytes;
  r.name_ = std::move(name);
  Parser p(bytes, r.name_);
  if (bytes.empty())
    return make_error(BITNET_STATUS_INVALID_ARGUMENT, r.name_ + ": the file is empty");

  const uint32_t magic = p.read<uint32_t>("magic");
  if (p.ok() && magic != kMagic) p.fail(0, "magic", "not a GGUF file (no \"GGUF\" signature)");
  const uint32_t version = p.read<uint32_t>("version");
  if (p.ok() && version != 2 && version != 3) {
    std::string why = "version " + std::to_string(version) + " is not supported (2 and 3 are)";
    if (version == 1) why += "; version 1 files must be converted with a current llama.cpp";
    if (__builtin_bswap32(version) == 2 || __builtin_bswap32(version) == 3)
      why = "big-endian GGUF files are not supported";
    p.fail(4, "version", why);
  }
  r.version_ = version;
  const uint64_t n_tensors = p.read<uint64_t>("tensor count");
  const uint64_t n_kv = p.read<uint64_t>("metadata count");
  if (!p.ok()) return p.take_error();
  // A key-value takes at least 13 bytes (empty key, type, one byte), a tensor info 24.
  if (n_kv > p.remaining() / 13)
    p.fail(16, "metadata count", std::to_string(n_kv) + " entries cannot fit in the file");
  if (n_tensors > p.remaining() / 24)
    p.fail(8, "tensor count", std::to_string(n_tensors) + " tensors cannot fit in the file");

  std::unordered_set<std::string> keys;
  for (uint64_t i = 0; i < n_kv && p.ok(); ++i) {
    const size_t at = p.pos();
    const std::string entry = "metadata entry " + std::to_string(i);
    p.set_context(entry);
    std::string key = p.read_string("key");
    if (!p.ok()) break;
    p.set_context("metadata '" + key + "'");
    const ValueType type = p.read_type("type");
    Value value = p.read_value(type, 0);
    if (!p.ok()) break;
    if (!keys.insert(key).second) {
      p.set_context(entry);
      p.fail(at, "", "duplicate key '" + key + "'");
      break;
    }
    if (key == "general.alignment") {
      Result<size_t> a = alignment_of(value);
      if (!a) {
        p.fail(at, "", a.error().message);
        break;
      }
      r.alignment_ = *a;
    }
    r.metadata_.push_back({std::move(key), std::move(value)});
  }

  std::unordered_set<std::string> names;
  for (uint64_t i = 0; i < n_tensors && p.ok(); ++i) {
    TensorInfo t;
    t.info_offset = p.pos();
    p.set_context("tensor " + std::to_string(i));
    t.name = p.read_string("name");
    if (!p.ok()) break;
    if (!names.insert(t.name).second) {
      p.fail(t.info_offset, "", "duplicate tensor name '" + t.name + "'");
      break;
    }
    p.set_context("tensor '" + t.name + "'");
    const size_t dims_at = p.pos();
    t.n_dims = p.read<uint32_t>("dimension count");
    if (p.ok() && (t.n_dims == 0 || t.n_dims > kMaxDims))
      p.fail(dims_at, "", std::to_string(t.n_dims) + " dimensions (1 to 4 are allowed)");
    for (uint32_t d = 0; d < t.n_dims && p.ok(); ++d) {
      const size_t at = p.pos();
      const uint64_t ne = p.read<uint64_t>("dimension");
      if (p.ok() && (ne == 0 || ne > static_cast<uint64_t>(INT64_MAX)))
        p.fail(at, "", "dimension " + std::to_string(d) + " is " + std::to_string(ne));
      t.ne[d] = static_cast<int64_t>(ne);
    }
    const size_t type_at = p.pos();
    t.type = static_cast<int32_t>(p.read<uint32_t>("type"));
    t.offset = p.read<uint64_t>("data offset");
    if (!p.ok()) break;
    const sdk::TypeTraits* traits = sdk::type_traits(t.type);
    if (!traits) {
      p.fail(type_at, "", "unknown tensor type id " + std::to_string(t.type));
      break;
    }
    // ne[0] starts right after the 4-byte dimension count.
    if (t.ne[0] % traits->block_elems != 0) {
      p.fail(dims_at + 4, "",
             "first dimension " + std::to_string(t.ne[0]) + " is not a multiple of the " +
                 std::string(traits->name) + " block size " + std::to_string(traits->block_elems));
      break;
    }
    int64_t elements = 1;
    bool overflow = false;
    for (uint32_t d = 0; d < t.n_dims; ++d)
      overflow |= __builtin_mul_overflow(elements, t.ne[d], &elements);
    const auto bytes = sdk::tensor_bytes(t.type, t.ne.data(), static_cast<int>(t.n_dims));
    if (overflow || !bytes) {
      p.fail(dims_at, "", "the product of its dimensions overflows");
      break;
    }
    t.bytes = *bytes;
    r.tensors_.push_back(std::move(t));
  }
  if (!p.ok()) return p.take_error();

  p.align_to(r.alignment_);
  r.data_offset_ = p.pos();
  const size_t data_size = bytes.size() - r.data_offset_;
  std::vector<const TensorInfo*> by_offset;
  for (const TensorInfo& t : r.tensors_) {
    const std::string tf = "tensor '" + t.name + "'";
    if (t.offset % r.alignment_ != 0)
      return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                        r.name_ + ": " + tf + " (described at byte " +
                            std::to_string(t.info_offset) + "): data offset " +
                            std::to_string(t.offset) + " is not a multiple of the alignment " +
                            std::to_string(r.alignment_));
    if (t.offset > data_size || t.bytes > data_size - t.offset)
      return make_error(
          BITNET_STATUS_INVALID_ARGUMENT,
          r.name_ + ": " + tf + " (described at byte " + std::to_string(t.info_offset) + "): its " +
              std::to_string(t.bytes) + " bytes at data offset " + std::to_string(t.offset) +
              " run past the end of the file (data section is " + std::to_string(data_size) +
              " bytes from byte " + std::to_string(r.data_offset_) + "); the file is truncated");
    by_offset.push_back(&t);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const TensorInfo& a = *by_offset[i - 1];
    const TensorInfo& b = *by_offset[i];
    if (a.offset + a.bytes > b.offset)
      return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                        r.name_ + ": tensors '" + a.name + "' and '" + b.name +
                            "' overlap in the data section (bytes " + std::to_string(a.offset) +
                            "+" + std::to_string(a.bytes) + " and " + std::to_string(b.offset) +
                            ")");
  }
  return r;
}

const Value* Reader::find(std::string_view key) const {
  for (const KeyValue& kv : metadata_)
    if (kv.key == key) return &kv.value;
  return nullptr;
}

const TensorInfo* Reader::tensor(std::string_view name) const {
  for (const TensorInfo& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace bitnet::gguf
