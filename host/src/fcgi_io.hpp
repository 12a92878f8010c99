// FastCGI in and out: reading a request's parameters and body from libfcgi, writing a response.
#pragma once

#include "response.hpp"

#include <string>

typedef struct FCGX_Request FCGX_Request;

namespace shopd::host {

/// One request as read from nginx's FastCGI parameters.
struct Incoming {
    /// The method to route by: HEAD is served as GET here, once, so that nothing downstream
    /// (router, built-ins, plugins) needs to know HEAD; write_response() then drops the body.
    std::string method;
    bool head = false;
    std::string path;  ///< decoded and normalised: always ends in '/'
    std::string query, content_type, bearer, idempotency_key, request_id, base_url;
    std::string origin;               ///< Origin: a browser's cross-origin request
    std::string cors_request_method;  ///< Access-Control-Request-Method: set on a preflight
    std::string if_none_match;        ///< If-None-Match: the client's cached ETags
    std::string body;

    /// The method as the client sent it (for logs and 405 messages).
    std::string wire_method() const { return head ? "HEAD" : method; }
};

/// Reads the parameters of `r`; assigns a request id unless the client sent a usable one.
Incoming read_incoming(FCGX_Request &r);

/// Reads up to `limit` body bytes into in.body; returns false (having drained the rest, so a
/// kept-alive connection stays in step) when the body is larger.
bool read_body(FCGX_Request &r, Incoming &in, long long limit);

/// Writes status line, headers (with X-Request-Id) and, unless HEAD, the body.
void write_response(FCGX_Request &r, const Incoming &in, const shopd_response &resp);

}  // namespace shopd::host
