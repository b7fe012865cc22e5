#include <bitnet/runtime/generate/stop_matcher.hpp>

#include <algorithm>

namespace bitnet::generate {

std::string StopMatcher::push(std::string_view more, bool& stopped) {
  pending_ += more;
  size_t cut = std::string::npos;
  for (const std::string& s : stops_)
    if (!s.empty()) cut = std::min(cut, pending_.find(s));
  if (cut != std::string::npos) {
    stopped = true;
    return pending_.substr(0, cut);
  }
  const size_t hold = held_suffix();
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return out;
}

// Length of the longest end of pending_ that begins some stop string.
size_t StopMatcher::held_suffix() const {
  size_t best = 0;
  for (const std::string& s : stops_)
    for (size_t n = std::min(s.size() - 1, pending_.size()); n > best; --n)
      if (s.compare(0, n, pending_, pending_.size() - n, n) == 0) {
        best = n;
        break;
      }
  return best;
}

}  // namespace bitnet::generate
