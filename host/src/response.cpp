// Helpers for the responses the host writes itself.
#include "response.hpp"

#include "shopd/http.hpp"

#include <rapidjson/document.h>

#include <cstdio>

namespace shopd::host {

ProblemSummary summarize_problem(const shopd_response &resp) {
    ProblemSummary out;
    if (resp.content_type != "application/problem+json") return out;
    rapidjson::Document d;
    d.Parse(resp.body.data(), resp.body.size());
    if (d.HasParseError() || !d.IsObject()) return out;
    if (d.HasMember("title") && d["title"].IsString()) out.title = d["title"].GetString();
    if (d.HasMember("errors") && d["errors"].IsObject())
        for (const auto &m : d["errors"].GetObject())
            out.fields.push_back(printable(m.name.GetString()));
    return out;
}

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0x20 && c < 0x7f && c != '%') {
            out += ch;
        } else {
            char buf[4];
            (void)std::snprintf(buf, sizeof buf, "%%%02X", c);
            out += buf;
        }
    }
    return out;
}

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
