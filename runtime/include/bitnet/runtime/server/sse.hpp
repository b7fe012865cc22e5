// Server-sent events as OpenAI streams them: one `data: <json>` event per chunk, then
// `data: [DONE]`.
#pragma once

#include <string>
#include <string_view>

namespace bitnet::server::sse {

// One event carrying `data` (which must not contain a newline: compact JSON never does).
std::string event(std::string_view data);
// The event that ends an OpenAI stream.
std::string done();

}  // namespace bitnet::server::sse
