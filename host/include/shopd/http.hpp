// HTTP-level helpers shared by host and plugins: client errors, query strings, pagination maths.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace shopd {

/// Field name -> messages, as in DRF's validation errors.
using FieldErrors = std::map<std::string, std::vector<std::string>>;

/// Value of an RFC 9457 extension member: text, a whole number or a list of whole numbers.
using ProblemValue = std::variant<std::string, std::int64_t, std::vector<std::int64_t>>;
/// Extension members of a problem, in the order they are rendered.
using ProblemMembers = std::vector<std::pair<std::string, ProblemValue>>;

/// A request the client got wrong. Thrown anywhere in a handler; the plugin edge turns it into
/// an RFC 9457 problem+json response with this status. Never used for server faults.
class ClientError : public std::runtime_error {
public:
    ClientError(int status_, std::string title_, std::string detail_, FieldErrors errors_ = {})
        : std::runtime_error(detail_), status(status_), title(std::move(title_)),
          detail(std::move(detail_)), errors(std::move(errors_)) {}

    ClientError &with_header(std::string name, std::string value) & {
        headers.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    /// On a temporary: returns it by value, so `throw ClientError(...).with_header(...)` throws
    /// a fresh object rather than a reference to one.
    ClientError with_header(std::string name, std::string value) && {
        with_header(std::move(name), std::move(value));
        return std::move(*this);
    }
    /// Adds an extension member to the problem body (e.g. checkout's "variant_ids").
    ClientError &with_member(std::string name, ProblemValue value) & {
        members.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    ClientError with_member(std::string name, ProblemValue value) && {
        with_member(std::move(name), std::move(value));
        return std::move(*this);
    }

    int status;
    std::string title;
    std::string detail;
    FieldErrors errors;
    std::vector<std::pair<std::string, std::string>> headers;
    ProblemMembers members;
};

ClientError bad_request(std::string detail);
ClientError validation_failed(FieldErrors errors);
ClientError unauthorized(
    std::string detail = "Authentication credentials were not provided or are invalid.");
ClientError not_found(std::string detail = "Not found.");
ClientError conflict(std::string detail);

/// Standard title for an HTTP status ("Not Found").
const char *status_title(int status);

/// Renders a problem+json body: {"type","title","status","detail"[,"errors"][, members...]}.
std::string problem_json(int status, std::string_view title, std::string_view detail,
                         const FieldErrors &errors = {}, const ProblemMembers &members = {});

/// Decodes %XX and '+' of an application/x-www-form-urlencoded component.
std::string url_decode(std::string_view in);
/// Encodes a query component (RFC 3986 unreserved characters stay as they are).
std::string url_encode(std::string_view in);

/// A parsed query string. The last value of a repeated key wins, as in Django's QueryDict.get.
class Query {
public:
    explicit Query(std::string_view raw);
    std::optional<std::string> get(const std::string &key) const;
    /// The query string re-encoded with `key` set to `value` (or removed when value is empty).
    std::string with(const std::string &key, const std::string &value) const;

private:
    std::vector<std::pair<std::string, std::string>> items_;
};

/// Parses a positive database id ("1".."9223372036854775807"); nullopt otherwise.
std::optional<std::int64_t> parse_id(std::string_view text);
/// Parses a whole number in [min, max]; nullopt otherwise (no signs, spaces or decimals besides
/// '-').
std::optional<std::int64_t> parse_int(std::string_view text, std::int64_t min, std::int64_t max);

/// Page requested through ?page= and ?page_size= (DRF PageNumberPagination semantics).
struct PageRequest {
    std::int64_t page = 1;
    std::int64_t page_size = 20;
    std::int64_t offset() const { return (page - 1) * page_size; }
};

constexpr std::int64_t kDefaultPageSize = 20;
constexpr std::int64_t kMaxPageSize = 100;

/// Reads ?page= and ?page_size=. A page that is not a positive integer -> 404 ("Invalid page.");
/// a bad page_size falls back to the default and a large one is capped at 100, as DRF does.
PageRequest parse_page_request(const Query &query);

/// Whether a page exists for `count` rows: page 1 always does (an empty list is a valid page).
bool page_exists(const PageRequest &page, std::int64_t count);

/// Absolute URL of the page after/before `page`, or nullopt when there is none.
/// `base` is scheme://host, `path` the request path, `query` the raw query string.
std::optional<std::string> next_page_url(const PageRequest &page, std::int64_t count,
                                         std::string_view base, std::string_view path,
                                         std::string_view query);
std::optional<std::string> previous_page_url(const PageRequest &page, std::string_view base,
                                             std::string_view path, std::string_view query);

}  // namespace shopd
