// Bytes to valid UTF-8 the way Rust's String::from_utf8_lossy does it (as HF tokenizers'
// decode does): each maximal ill-formed subsequence becomes one U+FFFD.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace bitnet::tok {

// Length of the well-formed character at s[pos], or 0 when ill-formed; `prefix` is then how
// many bytes form the longest valid start of a character (at least 1), and `truncated` whether
// the bytes ran out before the character was complete.
size_t utf8_char_len(std::string_view s, size_t pos, size_t& prefix, bool& truncated);

std::string utf8_lossy(std::string_view s);

}  // namespace bitnet::tok
