// GPT-2's byte-to-character map: printable bytes stand for themselves, the other 68 move to
// U+0100 onwards, so every byte is one visible character in a byte-level BPE vocabulary.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bitnet::tok {

// The UTF-8 text of each byte's character.
const std::array<std::string, 256>& byte_to_char();

// The byte a mapped character (a code point) stands for, or nullopt.
std::optional<uint8_t> char_to_byte(char32_t cp);

}  // namespace bitnet::tok
