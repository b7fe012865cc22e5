// The Split pre-tokenizers of GPT-2, LLaMA-3 and Qwen2 as hand-written matchers: the same
// pieces their regexes give under HF tokenizers, without a regex engine (and at many times its
// speed).
#pragma once

#include <bitnet/runtime/tokenizer/vocab.hpp>

#include <string_view>
#include <utility>
#include <vector>

namespace bitnet::tok {

// Appends the [begin, end) byte ranges of `text`'s pieces to `out`.
void pretokenize(PreTokenizer kind, std::string_view text,
                 std::vector<std::pair<size_t, size_t>>& out);

}  // namespace bitnet::tok
