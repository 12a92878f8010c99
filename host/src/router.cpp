// Method + path-pattern routing.
#include "router.hpp"

#include <algorithm>
#include <stdexcept>

namespace shopd::host {
namespace {

std::vector<std::string> split_segments(std::string_view path) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < path.size()) {
        const auto slash = path.find('/', start);
        const auto end = slash == std::string_view::npos ? path.size() : slash;
        if (end > start) out.emplace_back(path.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

bool is_capture(const std::string &segment) {
    return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool is_id(std::string_view s) {
    return !s.empty() && s.size() <= 19 &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool segments_match(const Route &r, const std::vector<std::string> &path,
                    std::vector<std::string> *params) {
    if (r.segments.size() != path.size()) return false;
    for (std::size_t i = 0; i < path.size(); ++i) {
        if (is_capture(r.segments[i])) {
            if (!is_id(path[i])) return false;
            if (params) params->push_back(path[i]);
        } else if (r.segments[i] != path[i]) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::string normalise_path(std::string_view path) {
    std::string out(path.empty() ? "/" : path);
    if (out.back() != '/') out += '/';
    return out;
}

void Router::add(std::string method, std::string pattern, std::size_t owner, int id) {
    if (pattern.empty() || pattern.front() != '/' || pattern.back() != '/')
        throw std::invalid_argument("route pattern must start and end with '/': " + pattern);
    Route r{std::move(method), std::move(pattern), owner, id, {}};
    r.segments = split_segments(r.pattern);
    // Captures are anonymous for matching: /x/{id}/ and /x/{pk}/ are the same route.
    auto shape = [](const std::vector<std::string> &segments) {
        std::vector<std::string> out;
        out.reserve(segments.size());
        for (const auto &s : segments) out.push_back(is_capture(s) ? "{}" : s);
        return out;
    };
    for (const auto &existing : routes_)
        if (existing.method == r.method && shape(existing.segments) == shape(r.segments))
            throw std::invalid_argument("duplicate route " + r.method + " " + r.pattern);
    routes_.push_back(std::move(r));
}

Match Router::match(std::string_view method, std::string_view path) const {
    const auto segments = split_segments(path);
    Match m;
    for (const auto &r : routes_) {
        if (!segments_match(r, segments, nullptr)) continue;
        if (r.method == method) {
            m.status = MatchStatus::found;
            m.route = &r;
            m.params.clear();
            segments_match(r, segments, &m.params);
            return m;
        }
        m.status = MatchStatus::method_not_allowed;
        if (m.allow.find(r.method) == std::string::npos)
            m.allow += (m.allow.empty() ? "" : ", ") + r.method;
    }
    return m;
}

}  // namespace shopd::host
