// GGUF metadata values: the thirteen wire types, and one owning value type used by both the
// reader and the writer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace bitnet::gguf {

enum class ValueType : uint32_t {
  u8 = 0,
  i8 = 1,
  u16 = 2,
  i16 = 3,
  u32 = 4,
  i32 = 5,
  f32 = 6,
  boolean = 7,
  string = 8,
  array = 9,
  u64 = 10,
  i64 = 11,
  f64 = 12,
};

inline constexpr uint32_t kValueTypeCount = 13;

std::string_view type_name(ValueType t);
// Bytes of one value on the wire; nullopt for string and array, whose size varies.
std::optional<size_t> scalar_size(ValueType t);

struct Value;

struct Array {
  ValueType element_type = ValueType::u8;
  std::vector<Value> items;
  bool operator==(const Array&) const;
};

struct Value {
  ValueType type = ValueType::u8;
  // Unsigned types are held as uint64_t, signed as int64_t, floats as double.
  std::variant<uint64_t, int64_t, double, bool, std::string, Array> data;

  static Value of(ValueType t, uint64_t v) { return {t, v}; }
  static Value of(ValueType t, int64_t v) { return {t, v}; }
  static Value of(ValueType t, double v) { return {t, v}; }
  static Value boolean(bool v) { return {ValueType::boolean, v}; }
  static Value string(std::string v) { return {ValueType::string, std::move(v)}; }
  static Value array(ValueType element_type, std::vector<Value> items) {
    return {ValueType::array, Array{element_type, std::move(items)}};
  }

  // The value as a number when it is one that fits; nullopt otherwise.
  std::optional<uint64_t> as_uint() const;
  std::optional<int64_t> as_int() const;
  std::optional<double> as_float() const;
  const std::string* as_string() const { return std::get_if<std::string>(&data); }
  const Array* as_array() const { return std::get_if<Array>(&data); }
  bool operator==(const Value&) const = default;
};

inline bool Array::operator==(const Array& o) const {
  return element_type == o.element_type && items == o.items;
}

// For listings: the value as text, arrays longer than `max_items` cut with "... (N items)".
std::string to_display(const Value& v, size_t max_items = 8);

}  // namespace bitnet::gguf
