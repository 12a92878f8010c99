// Method + path-pattern routing. Patterns are literal segments and {name} captures that match
// one decimal id; anything else is a 404, as with DRF's <int:pk> converters.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace shopd::host {

struct Route {
    std::string method;
    std::string pattern;
    std::size_t owner = 0;  ///< index of the plugin (or built-in) serving it
    int id = 0;             ///< handler id, passed back to the owner
    std::vector<std::string> segments;
};

enum class MatchStatus { found, not_found, method_not_allowed };

struct Match {
    MatchStatus status = MatchStatus::not_found;
    const Route *route = nullptr;
    std::vector<std::string> params;
    std::string allow;  ///< "GET, POST" when method_not_allowed
};

/// Appends '/' unless the path already ends in one ("/api/products" -> "/api/products/").
std::string normalise_path(std::string_view path);

class Router {
public:
    /// Adds a route; throws std::invalid_argument for a malformed pattern or a duplicate.
    void add(std::string method, std::string pattern, std::size_t owner, int id);
    /// Matches a normalised path (the caller maps HEAD to GET).
    Match match(std::string_view method, std::string_view path) const;

private:
    std::vector<Route> routes_;
};

}  // namespace shopd::host
