// Conditional GET, as Django's ConditionalGetMiddleware does it: every 200 answer to a GET
// carries a strong ETag computed from its body, and an If-None-Match naming it turns the answer
// into 304 without a body. Clients and caches stop downloading what they already have; the
// database work is the same, the bytes on the wire are not.
#pragma once

#include "fcgi_io.hpp"

#include <string>
#include <string_view>

namespace shopd::host {

/// The strong entity tag of a body: a quoted hex prefix of its SHA-256.
std::string entity_tag(std::string_view body);

/// Whether an If-None-Match header value matches `tag` ("*", or a list of tags; the weak
/// comparison RFC 9110 prescribes for If-None-Match, so W/"x" matches "x").
bool none_match(std::string_view header, std::string_view tag);

/// Adds the ETag to a 200 answer to GET, and turns it into 304 when If-None-Match matches.
void apply_conditional_get(const Incoming &in, shopd_response &resp);

}  // namespace shopd::host
