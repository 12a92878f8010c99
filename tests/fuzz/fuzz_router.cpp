// Fuzz target: the host router. A fixed route table shaped like the plugins' (literal segments
// and {id} captures, several methods per path); arbitrary method and path bytes are matched.
#include "fuzz_check.hpp"

#include "router.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using shopd::host::MatchStatus;
using shopd::host::Router;

const Router &routes() {
    static const Router router = [] {
        Router r;
        int id = 0;
        for (const char *method : {"GET", "POST"}) {
            r.add(method, "/api/products/", 1, id++);
            r.add(method, "/api/carts/{id}/items/", 3, id++);
        }
        for (const char *method : {"GET", "PUT", "PATCH", "DELETE"}) {
            r.add(method, "/api/products/{id}/", 1, id++);
            r.add(method, "/api/carts/{cart}/items/{item}/", 3, id++);
        }
        r.add("GET", "/api/products/{id}/variants/", 1, id++);
        r.add("POST", "/api/checkout/", 5, id++);
        r.add("GET", "/healthz/", 0, id++);
        r.add("GET", "/metrics/", 0, id++);
        r.add("GET", "/", 0, id++);
        return r;
    }();
    return router;
}

bool is_id(std::string_view s) {
    return !s.empty() && s.size() <= 19 &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    // "METHOD PATH": the method is everything before the first space (at most 16 bytes).
    const std::string_view in(reinterpret_cast<const char *>(data), size);
    const auto space = in.find(' ');
    const std::string_view method = space == std::string_view::npos || space > 16
                                        ? std::string_view("GET")
                                        : in.substr(0, space);
    const std::string_view raw_path =
        space == std::string_view::npos || space > 16 ? in : in.substr(space + 1);

    const std::string path = shopd::host::normalise_path(raw_path);
    FUZZ_CHECK(!path.empty() && path.back() == '/');
    FUZZ_CHECK(shopd::host::normalise_path(path) == path);

    const auto m = routes().match(method, path);
    switch (m.status) {
    case MatchStatus::found:
        FUZZ_CHECK(m.route != nullptr);
        FUZZ_CHECK(m.route->method == method);
        for (const auto &p : m.params) FUZZ_CHECK(is_id(p));
        FUZZ_CHECK(m.params.size() == static_cast<std::size_t>(std::count(
                                          m.route->pattern.begin(), m.route->pattern.end(), '{')));
        break;
    case MatchStatus::method_not_allowed: {
        FUZZ_CHECK(m.route == nullptr);
        FUZZ_CHECK(!m.allow.empty());
        // The same path with an allowed method is found.
        const std::string first = m.allow.substr(0, m.allow.find(','));
        FUZZ_CHECK(routes().match(first, path).status == MatchStatus::found);
        break;
    }
    case MatchStatus::not_found:
        FUZZ_CHECK(m.route == nullptr && m.params.empty());
        FUZZ_CHECK(routes().match("GET", path).status != MatchStatus::found || method != "GET");
        break;
    }
    return 0;
}
