#include <bitnet/runtime/gguf/value.hpp>

#include <cstdio>

namespace bitnet::gguf {

std::string_view type_name(ValueType t) {
  static constexpr std::string_view kNames[] = {"u8",  "i8",  "u16",  "i16",    "u32",
                                                "i32", "f32", "bool", "string", "array",
                                                "u64", "i64", "f64"};
  const auto i = static_cast<uint32_t>(t);
  return i < kValueTypeCount ? kNames[i] : "unknown";
}

std::optional<size_t> scalar_size(ValueType t) {
  switch (t) {
    case ValueType::u8:
    case ValueType::i8:
    case ValueType::boolean:
      return 1;
    case ValueType::u16:
    case ValueType::i16:
      return 2;
    case ValueType::u32:
    case ValueType::i32:
    case ValueType::f32:
      return 4;
    case ValueType::u64:
    case ValueType::i64:
    case ValueType::f64:
      return 8;
    default:
      return std::nullopt;
  }
}

std::optional<uint64_t> Value::as_uint() const {
  if (const auto* u = std::get_if<uint64_t>(&data)) return *u;
  if (const auto* i = std::get_if<int64_t>(&data); i && *i >= 0) return static_cast<uint64_t>(*i);
  return std::nullopt;
}

std::optional<int64_t> Value::as_int() const {
  if (const auto* i = std::get_if<int64_t>(&data)) return *i;
  if (const auto* u = std::get_if<uint64_t>(&data); u && *u <= INT64_MAX)
    return static_cast<int64_t>(*u);
  return std::nullopt;
}

std::optional<double> Value::as_float() const {
  if (const auto* d = std::get_if<double>(&data)) return *d;
  if (const auto* u = std::get_if<uint64_t>(&data)) return static_cast<double>(*u);
  if (const auto* i = std::get_if<int64_t>(&data)) return static_cast<double>(*i);
  return std::nullopt;
}

std::string to_display(const Value& v, size_t max_items) {
  struct Printer {
    size_t max_items;
    std::string operator()(uint64_t u) const { return std::to_string(u); }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.7g", d);
      return buf;
    }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(const std::string& s) const {
      std::string out = "\"";
      for (char c : s.size() > 200 ? s.substr(0, 200) : s) {
        if (c == '\n') {
          out += "\\n";
        } else if (c == '"' || c == '\\') {
          out += '\\';
          out += c;
        } else {
          out += c;
        }
      }
      return out + (s.size() > 200 ? "\"..." : "\"");
    }
    std::string operator()(const Array& a) const {
      std::string out = "[";
      const size_t shown = std::min(a.items.size(), max_items);
      for (size_t i = 0; i < shown; ++i) {
        if (i) out += ", ";
        out += std::visit(*this, a.items[i].data);
      }
      if (shown < a.items.size())
        out += ", ... (" + std::to_string(a.items.size()) + " " +
               std::string(type_name(a.element_type)) + " items)";
      return out + "]";
    }
  };
  return std::visit(Printer{max_items}, v.data);
}

}  // namespace bitnet::gguf
