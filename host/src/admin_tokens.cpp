// Admin tokens: fixed ones from the command line plus a re-readable file.
#include "admin_tokens.hpp"

#include <openssl/crypto.h>

#include <fstream>
#include <sstream>

namespace shopd::host {

std::vector<std::string> parse_token_file(const std::string &text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        const auto b = line.find_first_not_of(" \t\r");
        if (b == std::string::npos || line[b] == '#') continue;
        const auto e = line.find_last_not_of(" \t\r");
        out.push_back(line.substr(b, e - b + 1));
    }
    return out;
}

AdminTokens::AdminTokens(std::vector<std::string> fixed, std::string file)
    : fixed_(std::move(fixed)), file_(std::move(file)),
      tokens_(std::make_shared<const std::vector<std::string>>(fixed_)) {
    if (!file_.empty()) reload();
}

std::string AdminTokens::reload() {
    if (file_.empty()) return "no admin token file";
    std::ifstream in(file_);
    if (!in) return "cannot read admin token file " + file_ + "; keeping the previous tokens";
    std::stringstream text;
    text << in.rdbuf();
    auto next = fixed_;
    for (auto &t : parse_token_file(text.str())) next.push_back(std::move(t));
    const std::size_t n = next.size();
    {
        std::lock_guard<std::mutex> lock(mu_);
        tokens_ = std::make_shared<const std::vector<std::string>>(std::move(next));
    }
    return "admin tokens: " + std::to_string(n) + " valid";
}

std::shared_ptr<const std::vector<std::string>> AdminTokens::current() const {
    std::lock_guard<std::mutex> lock(mu_);
    return tokens_;
}

bool AdminTokens::matches(const std::string &given) const {
    if (given.empty()) return false;
    bool found = false;
    // Every token is compared, so the time taken says nothing about which one (if any) matched.
    for (const auto &t : *current())
        found |= !t.empty() && t.size() == given.size() &&
                 CRYPTO_memcmp(t.data(), given.data(), t.size()) == 0;
    return found;
}

std::size_t AdminTokens::size() const { return current()->size(); }

}  // namespace shopd::host
