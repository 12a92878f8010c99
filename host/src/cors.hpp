// Cross-origin requests from browser front ends: an allow-list of origins (--cors-origins), the
// preflight answer and the headers of every response to an allowed origin. Other origins get
// no CORS headers at all, so the browser keeps them out.
#pragma once

#include "fcgi_io.hpp"

#include <string>
#include <vector>

namespace shopd::host {

class Cors {
public:
    explicit Cors(std::vector<std::string> origins) : origins_(std::move(origins)) {}

    /// Whether `origin` is on the allow-list (exact match, as browsers send it).
    bool allows(const std::string &origin) const;
    /// A preflight (OPTIONS + Origin + Access-Control-Request-Method) from an allowed origin:
    /// answers 204 with the Allow-* headers and returns true. Otherwise leaves `resp` alone.
    bool answer_preflight(const Incoming &in, shopd_response &resp) const;
    /// Adds Allow-Origin, Vary and Expose-Headers when the request came from an allowed origin.
    void decorate(const Incoming &in, shopd_response &resp) const;

private:
    std::vector<std::string> origins_;
};

}  // namespace shopd::host
