// Test support: a small libcurl HTTP client for integration tests against the real stack
// (nginx -> shopd -> PostgreSQL), plus environment and fixture helpers.
#pragma once

#include <rapidjson/document.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

typedef void CURL;

namespace shopd::test {

struct Response {
    long status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  ///< lower-case names

    /// The body parsed as JSON; fails the calling test (CPPUNIT assert) if it does not parse.
    rapidjson::Document json() const;
    /// Header value or "" (name in any case).
    std::string header(const std::string &name) const;
    /// "status body" for assertion messages.
    std::string describe() const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

/// One keep-alive HTTP connection to $SHOPD_URL. Not thread-safe: one per thread.
class Http {
public:
    Http();
    ~Http();
    Http(const Http &) = delete;
    Http &operator=(const Http &) = delete;

    /// Sends a request; `body` non-empty is sent as application/json unless headers say otherwise.
    /// `token` non-empty becomes "Authorization: Bearer <token>".
    Response request(const std::string &method, const std::string &path,
                     const std::string &body = "", const std::string &token = "",
                     const Headers &headers = {});
    Response get(const std::string &path, const std::string &token = "") {
        return request("GET", path, "", token);
    }
    Response post(const std::string &path, const std::string &body, const std::string &token = "",
                  const Headers &headers = {}) {
        return request("POST", path, body, token, headers);
    }
    Response put(const std::string &path, const std::string &body, const std::string &token = "") {
        return request("PUT", path, body, token);
    }
    Response patch(const std::string &path, const std::string &body,
                   const std::string &token = "") {
        return request("PATCH", path, body, token);
    }
    Response del(const std::string &path, const std::string &token = "") {
        return request("DELETE", path, "", token);
    }

    const std::string &base() const { return base_; }

private:
    CURL *curl_;
    std::string base_;
};

/// Value of a required environment variable; throws std::runtime_error naming it if unset.
std::string env(const char *name);

/// What a shell command printed (stdout and stderr together) and its exit code (-1: it did not
/// exit normally).
struct CommandRun {
    int exit_code = -1;
    std::string output;
};
CommandRun run_command(const std::string &command);
/// $SHOPD_ADMIN_TOKEN.
std::string admin_token();
/// A string unique to this process and call, for names and SKUs that must not collide.
std::string unique(const std::string &prefix);

/// Asserts `r` is a problem+json response with `status` (type, title, status, detail present).
void assert_problem(const Response &r, long status, const char *what);
/// Asserts a 400 validation problem whose "errors" names `field` (a non-empty array of messages).
void assert_field_error(const Response &r, const std::string &field, const std::string &what);

}  // namespace shopd::test
