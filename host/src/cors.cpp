// CORS for allowed origins.
#include "cors.hpp"

#include <algorithm>

namespace shopd::host {
namespace {

constexpr const char *kAllowMethods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
constexpr const char *kAllowHeaders =
    "Authorization, Content-Type, Idempotency-Key, X-Request-Id, If-None-Match";
// What a front end may read besides the CORS-safelisted headers.
constexpr const char *kExposeHeaders = "X-Request-Id, Retry-After, Idempotent-Replayed, ETag";
// Browsers cap it anyway (Chromium: 2 h); ten minutes keeps an allow-list change quick to apply.
constexpr const char *kMaxAgeSeconds = "600";

}  // namespace

bool Cors::allows(const std::string &origin) const {
    return !origin.empty() && std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

bool Cors::answer_preflight(const Incoming &in, shopd_response &resp) const {
    if (in.method != "OPTIONS" || in.cors_request_method.empty() || !allows(in.origin))
        return false;
    resp.status = 204;
    resp.headers.emplace_back("Access-Control-Allow-Origin", in.origin);
    resp.headers.emplace_back("Access-Control-Allow-Methods", kAllowMethods);
    resp.headers.emplace_back("Access-Control-Allow-Headers", kAllowHeaders);
    resp.headers.emplace_back("Access-Control-Max-Age", kMaxAgeSeconds);
    resp.headers.emplace_back("Vary", "Origin");
    return true;
}

void Cors::decorate(const Incoming &in, shopd_response &resp) const {
    if (in.method == "OPTIONS" || !allows(in.origin)) return;
    resp.headers.emplace_back("Access-Control-Allow-Origin", in.origin);
    resp.headers.emplace_back("Access-Control-Expose-Headers", kExposeHeaders);
    resp.headers.emplace_back("Vary", "Origin");
}

}  // namespace shopd::host
