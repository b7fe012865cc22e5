#include <bitnet/runtime/tokenizer/tokenizer.hpp>

#include "utf8_lossy.hpp"

namespace bitnet::tok {

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool skip_special)
    : tokenizer_(&tokenizer), skip_special_(skip_special) {}

std::string StreamDecoder::push(TokenId id) {
  if (skip_special_ && tokenizer_->is_special(id)) return {};
  std::string bytes = tokenizer_->token_bytes(id);
  // The SentencePiece decoder drops the space that starts the text, once.
  if (first_ && !bytes.empty()) {
    first_ = false;
    if (tokenizer_->vocab().model == ModelKind::sentencepiece_bpe && bytes[0] == ' ')
      bytes.erase(0, 1);
  }
  pending_ += bytes;
  // Emit up to the last character that is complete; a valid but unfinished tail waits.
  size_t pos = 0, keep_from = pending_.size();
  while (pos < pending_.size()) {
    size_t prefix;
    bool truncated;
    if (const size_t len = utf8_char_len(pending_, pos, prefix, truncated)) {
      pos += len;
    } else if (truncated) {
      keep_from = pos;
      break;
    } else {
      pos += prefix;
    }
  }
  std::string out = utf8_lossy(std::string_view(pending_).substr(0, keep_from));
  pending_.erase(0, keep_from);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out = utf8_lossy(pending_);
  pending_.clear();
  return out;
}

}  // namespace bitnet::tok
