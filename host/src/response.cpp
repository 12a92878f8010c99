// Helpers for the responses the host writes itself.
#include "response.hpp"

#include "shopd/http.hpp"

namespace shopd::host {

void set_problem(shopd_response &resp, int status, std::string_view detail,
                 std::string_view title) {
    resp.status = status;
    resp.content_type = "application/problem+json";
    resp.body = problem_json(status, title.empty() ? std::string_view(status_title(status)) : title,
                             detail);
}

void set_json(shopd_response &resp, int status, std::string body) {
    resp.status = status;
    resp.content_type = "application/json; charset=utf-8";
    resp.body = std::move(body);
}

}  // namespace shopd::host
