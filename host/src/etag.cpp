// Strong ETags and If-None-Match.
#include "etag.hpp"

#include "shopd/sdk.hpp"

namespace shopd::host {

std::string entity_tag(std::string_view body) {
    // 128 bits of SHA-256: collisions are out of reach, and the tag stays short.
    return "\"" + sha256_hex(body).substr(0, 32) + "\"";
}

bool none_match(std::string_view header, std::string_view tag) {
    std::size_t pos = 0;
    while (pos < header.size()) {
        std::size_t end = header.find(',', pos);
        if (end == std::string_view::npos) end = header.size();
        std::string_view item = header.substr(pos, end - pos);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
            item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (item.substr(0, 2) == "W/") item.remove_prefix(2);
        if (item == "*" || item == tag) return true;
        pos = end + 1;
    }
    return false;
}

void apply_conditional_get(const Incoming &in, shopd_response &resp) {
    if (in.method != "GET" || resp.status != 200 || resp.body.empty()) return;
    const std::string tag = entity_tag(resp.body);
    resp.headers.emplace_back("ETag", tag);
    if (in.if_none_match.empty() || !none_match(in.if_none_match, tag)) return;
    resp.status = 304;
    resp.body.clear();  // headers (ETag, CORS, X-Request-Id) stay, as RFC 9110 asks
    resp.content_type.clear();
}

}  // namespace shopd::host
