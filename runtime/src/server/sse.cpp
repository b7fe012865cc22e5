#include <bitnet/runtime/server/sse.hpp>

namespace bitnet::server::sse {

std::string event(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 8);
  out += "data: ";
  out += data;
  out += "\n\n";
  return out;
}

std::string done() {
  return event("[DONE]");
}

}  // namespace bitnet::server::sse
