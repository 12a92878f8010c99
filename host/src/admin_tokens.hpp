// The admin bearer tokens: more than one may be valid at once, so an operator rotates without a
// gap (add the new token, move the clients, remove the old). They come from --admin-token (a
// comma list) and from --admin-token-file (one per line), which SIGHUP re-reads.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace shopd::host {

class AdminTokens {
public:
    AdminTokens(std::vector<std::string> fixed, std::string file);

    /// Reads the token file again. On a missing or unreadable file the previous set stays (an
    /// operator's typo must not lock every admin out); returns a line for the log.
    std::string reload();
    /// Whether `given` is one of the tokens (each compared in constant time).
    bool matches(const std::string &given) const;
    /// How many tokens are valid now.
    std::size_t size() const;

private:
    std::shared_ptr<const std::vector<std::string>> current() const;

    const std::vector<std::string> fixed_;
    const std::string file_;
    mutable std::mutex mu_;
    std::shared_ptr<const std::vector<std::string>> tokens_;
};

/// Tokens of a token file's text: one per line; blank lines and lines starting with '#' skipped,
/// surrounding spaces trimmed.
std::vector<std::string> parse_token_file(const std::string &text);

}  // namespace shopd::host
