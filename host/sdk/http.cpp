// Client errors, problem+json rendering, query strings and pagination maths.
#include "shopd/http.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>
#include <limits>

namespace shopd {

ClientError bad_request(std::string detail) {
    return ClientError(400, "Bad Request", std::move(detail));
}

ClientError validation_failed(FieldErrors errors) {
    return ClientError(400, "Invalid input", "One or more fields are invalid.", std::move(errors));
}

ClientError unauthorized(std::string detail) {
    return ClientError(401, "Unauthorized", std::move(detail))
        .with_header("WWW-Authenticate", "Bearer");
}

ClientError not_found(std::string detail) {
    return ClientError(404, "Not Found", std::move(detail));
}

ClientError conflict(std::string detail) { return ClientError(409, "Conflict", std::move(detail)); }

const char *status_title(int status) {
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
}

namespace {
struct WriteMember {
    rapidjson::Writer<rapidjson::StringBuffer> &w;
    void operator()(const std::string &text) const {
        w.String(text.c_str(), static_cast<rapidjson::SizeType>(text.size()));
    }
    void operator()(std::int64_t n) const { w.Int64(n); }
    void operator()(const std::vector<std::int64_t> &list) const {
        w.StartArray();
        for (const auto n : list) w.Int64(n);
        w.EndArray();
    }
};
}  // namespace

std::string problem_json(int status, std::string_view title, std::string_view detail,
                         const FieldErrors &errors, const ProblemMembers &members) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("type");
    w.String("about:blank");
    w.Key("title");
    w.String(title.data(), static_cast<rapidjson::SizeType>(title.size()));
    w.Key("status");
    w.Int(status);
    w.Key("detail");
    w.String(detail.data(), static_cast<rapidjson::SizeType>(detail.size()));
    if (!errors.empty()) {
        w.Key("errors");
        w.StartObject();
        for (const auto &[field, messages] : errors) {
            w.Key(field.c_str(), static_cast<rapidjson::SizeType>(field.size()));
            w.StartArray();
            for (const auto &m : messages)
                w.String(m.c_str(), static_cast<rapidjson::SizeType>(m.size()));
            w.EndArray();
        }
        w.EndObject();
    }
    for (const auto &[name, value] : members) {
        w.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
        std::visit(WriteMember{w}, value);
    }
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

namespace {
int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

std::string url_decode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 &&
                   hex_value(in[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

std::string url_encode(std::string_view in) {
    static const char *hex = "0123456789ABCDEF";
    std::string out;
    for (const char ch : in) {
        const auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

Query::Query(std::string_view raw) {
    while (!raw.empty()) {
        const auto amp = raw.find('&');
        const std::string_view part = raw.substr(0, amp);
        raw = amp == std::string_view::npos ? std::string_view{} : raw.substr(amp + 1);
        if (part.empty()) continue;
        const auto eq = part.find('=');
        std::string key = url_decode(part.substr(0, eq));
        std::string value =
            eq == std::string_view::npos ? std::string{} : url_decode(part.substr(eq + 1));
        items_.emplace_back(std::move(key), std::move(value));
    }
}

std::optional<std::string> Query::get(const std::string &key) const {
    std::optional<std::string> found;
    for (const auto &[k, v] : items_)
        if (k == key) found = v;
    return found;
}

std::string Query::with(const std::string &key, const std::string &value) const {
    std::string out;
    auto append = [&out](const std::string &k, const std::string &v) {
        if (!out.empty()) out += '&';
        out += url_encode(k) + "=" + url_encode(v);
    };
    for (const auto &[k, v] : items_)
        if (k != key) append(k, v);
    if (!value.empty()) append(key, value);
    return out;
}

std::optional<std::int64_t> parse_int(std::string_view text, std::int64_t min, std::int64_t max) {
    bool negative = false;
    if (!text.empty() && text.front() == '-') {
        negative = true;
        text.remove_prefix(1);
    }
    if (text.empty() || text.size() > 18) return std::nullopt;
    std::int64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + (c - '0');
    }
    if (negative) value = -value;
    if (value < min || value > max) return std::nullopt;
    return value;
}

std::optional<std::int64_t> parse_id(std::string_view text) {
    if (text.size() == 19) {
        // 19 digits may still fit: compare against INT64_MAX textually.
        if (text > std::string_view("9223372036854775807")) return std::nullopt;
        std::int64_t value = 0;
        for (char c : text) {
            if (c < '0' || c > '9') return std::nullopt;
            value = value * 10 + (c - '0');
        }
        // "0000000000000000000" is 19 digits too, and not a positive id.
        if (value == 0) return std::nullopt;
        return value;
    }
    return parse_int(text, 1, std::numeric_limits<std::int64_t>::max());
}

PageRequest parse_page_request(const Query &query) {
    PageRequest req;
    if (auto size = query.get("page_size")) {
        if (auto n = parse_int(*size, 1, std::numeric_limits<std::int64_t>::max() / 2))
            req.page_size = std::min(*n, kMaxPageSize);
    }
    if (auto page = query.get("page")) {
        auto n = parse_int(*page, 1, 1000000000);
        if (!n) throw not_found("Invalid page.");
        req.page = *n;
    }
    return req;
}

bool page_exists(const PageRequest &page, std::int64_t count) {
    return page.page == 1 || page.offset() < count;
}

std::optional<std::string> next_page_url(const PageRequest &page, std::int64_t count,
                                         std::string_view base, std::string_view path,
                                         std::string_view query) {
    if (page.offset() + page.page_size >= count) return std::nullopt;
    std::string url(base);
    url += path;
    url += '?';
    url += Query(query).with("page", std::to_string(page.page + 1));
    return url;
}

std::optional<std::string> previous_page_url(const PageRequest &page, std::string_view base,
                                             std::string_view path, std::string_view query) {
    if (page.page <= 1) return std::nullopt;
    std::string url(base);
    url += path;
    // DRF drops ?page= entirely for the first page.
    const std::string rest =
        Query(query).with("page", page.page == 2 ? "" : std::to_string(page.page - 1));
    if (!rest.empty()) url += "?" + rest;
    return url;
}

}  // namespace shopd
