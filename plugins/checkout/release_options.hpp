// reservation-release: command-line parsing, apart from main() so unit tests can drive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace shopd::checkout {

/// Rows per batch: each batch is one statement (release.cpp), so its cost is per row, not per
/// batch; 10000 releases 100k expired reservations in 10 transactions, each holding its
/// variant rows for a fraction of a second (issue 14; 500 took 4.6 s for 100k).
constexpr std::size_t kDefaultBatchSize = 10000;
constexpr std::size_t kMaxBatchSize = 100000;
/// A week: the original design's periodic task deleted carts abandoned this long.
constexpr std::int64_t kDefaultCartTtl = 7LL * 24 * 3600;
/// A day, as long as Stripe keeps an Idempotency-Key: a retry later than that is a new request.
constexpr std::int64_t kDefaultIdempotencyTtl = 24LL * 3600;
/// Ten years: a larger TTL is surely a typo (0 already means "never").
constexpr std::int64_t kMaxTtl = 10LL * 365 * 24 * 3600;

struct ReleaseOptions {
    std::string db;                                         ///< libpq connection string / URL
    std::size_t batch_size = kDefaultBatchSize;             ///< rows per transaction
    std::int64_t cart_ttl = kDefaultCartTtl;                ///< seconds; 0 = never purge carts
    std::int64_t idempotency_ttl = kDefaultIdempotencyTtl;  ///< seconds; 0 = never purge keys
    bool dry_run = false;                                   ///< count only, change nothing
    bool check = false;  ///< only verify variants.reserved against ACTIVE reservations (check.cpp)
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
