#include <bitnet/runtime/atomic_file.hpp>
#include <bitnet/runtime/gguf/reader.hpp>
#include <bitnet/runtime/gguf/writer.hpp>
#include <bitnet/sdk/types.hpp>

namespace bitnet::gguf {
namespace {

class Encoder {
 public:
  std::vector<std::byte> out;

  template <class T>
  void put(T v) {
    const auto* p = reinterpret_cast<const std::byte*>(&v);
    out.insert(out.end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    out.insert(out.end(), p, p + s.size());
  }
  void put_value(const Value& v) {
    switch (v.type) {
      case ValueType::u8:
        return put<uint8_t>(static_cast<uint8_t>(std::get<uint64_t>(v.data)));
      case ValueType::i8:
        return put<int8_t>(static_cast<int8_t>(std::get<int64_t>(v.data)));
      case ValueType::u16:
        return put<uint16_t>(static_cast<uint16_t>(std::get<uint64_t>(v.data)));
      case ValueType::i16:
        return put<int16_t>(static_cast<int16_t>(std::get<int64_t>(v.data)));
      case ValueType::u32:
        return put<uint32_t>(static_cast<uint32_t>(std::get<uint64_t>(v.data)));
      case ValueType::i32:
        return put<int32_t>(static_cast<int32_t>(std::get<int64_t>(v.data)));
      case ValueType::u64:
        return put<uint64_t>(std::get<uint64_t>(v.data));
      case ValueType::i64:
        return put<int64_t>(std::get<int64_t>(v.data));
      case ValueType::f32:
        return put<float>(static_cast<float>(std::get<double>(v.data)));
      case ValueType::f64:
        return put<double>(std::get<double>(v.data));
      case ValueType::boolean:
        return put<uint8_t>(std::get<bool>(v.data) ? 1 : 0);
      case ValueType::string:
        return put_string(std::get<std::string>(v.data));
      case ValueType::array: {
        const Array& a = std::get<Array>(v.data);
        put<uint32_t>(static_cast<uint32_t>(a.element_type));
        put<uint64_t>(a.items.size());
        for (const Value& item : a.items)
          put_value(item);
        return;
      }
    }
  }
  void pad_to(size_t alignment) {
    out.resize((out.size() + alignment - 1) / alignment * alignment);
  }
};

// A value whose variant member does not match its type would be written wrongly; refuse it.
std::string check_value(const Value& v, int depth = 0) {
  if (depth > kMaxArrayDepth) return "arrays nested too deep";
  switch (v.type) {
    case ValueType::u8:
    case ValueType::u16:
    case ValueType::u32:
    case ValueType::u64:
      return std::holds_alternative<uint64_t>(v.data) ? "" : "unsigned type without uint64_t";
    case ValueType::i8:
    case ValueType::i16:
    case ValueType::i32:
    case ValueType::i64:
      return std::holds_alternative<int64_t>(v.data) ? "" : "signed type without int64_t";
    case ValueType::f32:
    case ValueType::f64:
      return std::holds_alternative<double>(v.data) ? "" : "float type without double";
    case ValueType::boolean:
      return std::holds_alternative<bool>(v.data) ? "" : "bool type without bool";
    case ValueType::string:
      return std::holds_alternative<std::string>(v.data) ? "" : "string type without string";
    case ValueType::array: {
      const Array* a = v.as_array();
      if (!a) return "array type without array";
      for (const Value& item : a->items) {
        if (item.type != a->element_type) return "array item of another type";
        if (std::string why = check_value(item, depth + 1); !why.empty()) return why;
      }
      return "";
    }
  }
  return "unknown type";
}

}  // namespace

void Writer::set(const std::string& key, Value value) {
  for (auto& [k, v] : metadata_)
    if (k == key) {
      v = std::move(value);
      return;
    }
  metadata_.emplace_back(key, std::move(value));
}

Result<> Writer::add_tensor(std::string name, int32_t type, std::vector<int64_t> ne,
                            std::vector<std::byte> data) {
  const std::string what = "tensor '" + name + "'";
  if (ne.empty() || ne.size() > kMaxDims)
    return make_error(BITNET_STATUS_INVALID_ARGUMENT, what + ": 1 to 4 dimensions are allowed");
  const auto bytes = sdk::tensor_bytes(type, ne.data(), static_cast<int>(ne.size()));
  if (!bytes)
    return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                      what + ": type " + std::string(sdk::type_name(type)) +
                          " cannot hold that shape (unknown type, a dimension below 1, or a "
                          "first dimension that is not a whole number of blocks)");
  if (data.size() != *bytes)
    return make_error(BITNET_STATUS_INVALID_ARGUMENT, what + ": " + std::to_string(data.size()) +
                                                          " bytes given, " +
                                                          std::to_string(*bytes) + " needed");
  for (const Tensor& t : tensors_)
    if (t.name == name)
      return make_error(BITNET_STATUS_INVALID_ARGUMENT, what + " was already added");
  tensors_.push_back({std::move(name), type, std::move(ne), std::move(data)});
  return {};
}

// 0 (refused by write) when general.alignment is not a u32: the reader would reject the file.
size_t Writer::alignment() const {
  for (const auto& [k, v] : metadata_)
    if (k == "general.alignment")
      return v.type == ValueType::u32 ? static_cast<size_t>(v.as_uint().value_or(0)) : 0;
  return kDefaultAlignment;
}

Result<> Writer::write(const std::filesystem::path& path) const {
  const size_t align = alignment();
  if (align == 0 || (align & (align - 1)) != 0)
    return make_error(BITNET_STATUS_INVALID_ARGUMENT,
                      "general.alignment must be a u32 power of two; got " + std::to_string(align) +
                          " (0 means it is zero or not a u32)");
  Encoder e;
  e.put<uint32_t>(0x46554747);
  e.put<uint32_t>(3);
  e.put<uint64_t>(tensors_.size());
  e.put<uint64_t>(metadata_.size());
  for (const auto& [key, value] : metadata_) {
    if (std::string why = check_value(value); !why.empty())
      return make_error(BITNET_STATUS_INVALID_ARGUMENT, "metadata '" + key + "': " + why);
    e.put_string(key);
    e.put<uint32_t>(static_cast<uint32_t>(value.type));
    e.put_value(value);
  }
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    e.put_string(t.name);
    e.put<uint32_t>(static_cast<uint32_t>(t.ne.size()));
    for (int64_t n : t.ne)
      e.put<uint64_t>(static_cast<uint64_t>(n));
    e.put<uint32_t>(static_cast<uint32_t>(t.type));
    e.put<uint64_t>(offset);
    offset += (t.data.size() + align - 1) / align * align;
  }
  e.pad_to(align);
  for (const Tensor& t : tensors_) {
    e.out.insert(e.out.end(), t.data.begin(), t.data.end());
    e.pad_to(align);
  }

  // Beside the target, then renamed: a crash never leaves a half-written model under its name.
  return write_file_atomically(path, std::span<const std::byte>(e.out));
}

}  // namespace bitnet::gguf
