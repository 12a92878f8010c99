// Reading FastCGI requests and writing responses.
#include "fcgi_io.hpp"

#include "router.hpp"
#include "shopd/http.hpp"

#include <fcgiapp.h>

#include <strings.h>

#include <cstdio>
#include <cstring>
#include <random>

namespace shopd::host {
namespace {

const char *param(FCGX_Request &r, const char *name) {
    const char *v = FCGX_GetParam(name, r.envp);
    return v ? v : "";
}

std::string new_request_id() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[33];
    (void)snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                   static_cast<unsigned long long>(rng()));
    return buf;
}

/// Accepts a client's X-Request-Id if it is short printable ASCII (it goes into logs and headers).
bool acceptable_request_id(std::string_view id) {
    if (id.empty() || id.size() > 128) return false;
    for (char c : id)
        if (c <= ' ' || c > '~') return false;
    return true;
}

/// scheme://host[:port] the client used, for absolute links (pagination).
std::string base_url_of(FCGX_Request &r) {
    std::string scheme = param(r, "REQUEST_SCHEME");
    if (scheme.empty()) scheme = std::strcmp(param(r, "HTTPS"), "on") == 0 ? "https" : "http";
    std::string host = param(r, "HTTP_HOST");
    if (host.empty()) host = std::string(param(r, "SERVER_NAME")) + ":" + param(r, "SERVER_PORT");
    return scheme + "://" + host;
}

}  // namespace

Incoming read_incoming(FCGX_Request &r) {
    Incoming in;
    in.method = param(r, "REQUEST_METHOD");
    if (in.method == "HEAD") {
        in.method = "GET";
        in.head = true;
    }
    // DOCUMENT_URI is nginx's decoded, normalised path; REQUEST_URI is the raw fallback.
    std::string path = param(r, "DOCUMENT_URI");
    if (path.empty()) {
        path = param(r, "REQUEST_URI");
        path = path.substr(0, path.find('?'));
    }
    in.path = normalise_path(path);
    in.query = param(r, "QUERY_STRING");
    in.content_type = param(r, "CONTENT_TYPE");
    const std::string auth = param(r, "HTTP_AUTHORIZATION");
    if (auth.size() > 7 && strncasecmp(auth.c_str(), "Bearer ", 7) == 0) in.bearer = auth.substr(7);
    in.idempotency_key = param(r, "HTTP_IDEMPOTENCY_KEY");
    const std::string rid = param(r, "HTTP_X_REQUEST_ID");
    in.request_id = acceptable_request_id(rid) ? rid : new_request_id();
    in.base_url = base_url_of(r);
    in.origin = param(r, "HTTP_ORIGIN");
    in.cors_request_method = param(r, "HTTP_ACCESS_CONTROL_REQUEST_METHOD");
    in.if_none_match = param(r, "HTTP_IF_NONE_MATCH");
    return in;
}

bool read_body(FCGX_Request &r, Incoming &in, long long limit) {
    char chunk[65536];
    bool fits = true;
    for (;;) {
        const int n = FCGX_GetStr(chunk, sizeof chunk, r.in);
        if (n <= 0) break;
        if (fits && static_cast<long long>(in.body.size()) + n <= limit) {
            in.body.append(chunk, static_cast<std::size_t>(n));
        } else {
            fits = false;
            in.body.clear();
        }
    }
    return fits;
}

void write_response(FCGX_Request &r, const Incoming &in, const shopd_response &resp) {
    std::string head =
        "Status: " + std::to_string(resp.status) + " " + status_title(resp.status) + "\r\n";
    if (!resp.content_type.empty()) head += "Content-Type: " + resp.content_type + "\r\n";
    head += "X-Request-Id: " + in.request_id + "\r\n";
    for (const auto &[name, value] : resp.headers) {
        head += name;
        head += ": ";
        head += value;
        head += "\r\n";
    }
    head += "\r\n";
    FCGX_PutStr(head.data(), static_cast<int>(head.size()), r.out);
    if (!in.head && !resp.body.empty())
        FCGX_PutStr(resp.body.data(), static_cast<int>(resp.body.size()), r.out);
}

}  // namespace shopd::host
