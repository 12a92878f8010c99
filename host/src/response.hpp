// The response a request builds up: filled by the host's own routes directly and by plugins
// through shopd_host_api (to them it is opaque).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct shopd_response {
    int status = 0;
    std::string content_type;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

namespace shopd::host {

/// What the access log says of a problem answer: its title and the fields it names as invalid
/// (never values, bodies or tokens).
struct ProblemSummary {
    std::string title;
    std::vector<std::string> fields;
};

/// The summary of `resp` when it is a problem+json answer; an empty title otherwise.
ProblemSummary summarize_problem(const shopd_response &resp);

/// `text` safe to echo into JSON or a log: bytes outside printable ASCII become %XX, so invalid
/// UTF-8 from a request path never reaches a JSON body or a log line raw.
std::string printable(std::string_view text);

/// An RFC 9457 problem; the title defaults to the status's standard one.
void set_problem(shopd_response &resp, int status, std::string_view detail,
                 std::string_view title = {});
/// A JSON body with `status`.
void set_json(shopd_response &resp, int status, std::string body);

}  // namespace shopd::host
