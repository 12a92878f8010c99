// reservation-release: command-line parsing, apart from main() so unit tests can drive it.
#pragma once

#include <cstddef>
#include <string>

namespace shopd::checkout {

constexpr std::size_t kDefaultBatchSize = 500;
constexpr std::size_t kMaxBatchSize = 100000;

struct ReleaseOptions {
    std::string db;                              ///< libpq connection string / URL
    std::size_t batch_size = kDefaultBatchSize;  ///< reservations per transaction
    bool dry_run = false;                        ///< count only, change nothing
};

/// The outcome of parsing: run with `options`, or exit with `exit_code` after printing `message`
/// (usage on stdout for --help with code 0; an error on stderr with code 2).
struct ParsedOptions {
    bool run = false;
    ReleaseOptions options;
    int exit_code = 0;
    std::string message;
};

/// Parses argv. `env_db` ($SHOPD_DATABASE_URL, may be null) is the default of --db.
ParsedOptions parse_release_options(int argc, const char *const *argv, const char *env_db);

}  // namespace shopd::checkout
