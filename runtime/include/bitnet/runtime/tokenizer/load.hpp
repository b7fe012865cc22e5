// Tokenizer loaders: GGUF metadata (tokenizer.ggml.*) and HF tokenizer.json (with
// tokenizer_config.json when beside it), and the writer of GGUF tokenizer metadata used by
// converters. Unsupported features are errors naming the feature, never a silent fallback.
#pragma once

#include <bitnet/runtime/error.hpp>
#include <bitnet/runtime/gguf/reader.hpp>
#include <bitnet/runtime/gguf/writer.hpp>
#include <bitnet/runtime/tokenizer/vocab.hpp>

#include <filesystem>
#include <string_view>

namespace bitnet::tok {

Result<VocabData> vocab_from_gguf(const gguf::Reader& r);

// `config_json` may be empty. `name` is used in messages.
Result<VocabData> vocab_from_hf_json(std::string_view tokenizer_json, std::string_view config_json,
                                     const std::string& name);
// Reads the file, and tokenizer_config.json from the same directory when it exists.
Result<VocabData> vocab_from_hf_file(const std::filesystem::path& tokenizer_json);

// Writes `v` as tokenizer.ggml.* metadata. SentencePiece vocabularies are written the way
// llama.cpp's converter does, with scores and no merges: a score per token from its merge rank.
void vocab_to_gguf(const VocabData& v, gguf::Writer& w);

}  // namespace bitnet::tok
