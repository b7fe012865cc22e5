// Stop strings over streamed text: holds back text that could still become a stop string and
// finds the first one that does. Shared by the generation loop and the server's sequences.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bitnet::generate {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}

  // Adds text; returns what may be emitted now. Sets `stopped` when a stop string appeared
  // (the text before it is returned, the rest dropped).
  std::string push(std::string_view more, bool& stopped);
  // What is still held back, once no more text will come.
  std::string rest() { return std::exchange(pending_, {}); }

 private:
  size_t held_suffix() const;
  std::vector<std::string> stops_;
  std::string pending_;
};

}  // namespace bitnet::generate
