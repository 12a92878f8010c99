// reservation-release: releases expired reservations, then purges abandoned carts and old
// Idempotency-Keys, in batches of one transaction each (run by systemd/reservation-release.timer).
// --check only verifies variants.reserved (check.cpp) and exits 1 when a variant is off.
// Exit 0 done, 1 database error (or --check found a mismatch), 2 bad flags.
#include "check.hpp"
#include "checkout_domain.hpp"
#include "purge.hpp"
#include "release.hpp"
#include "release_options.hpp"

#include <pqxx/pqxx>

#include <cstdlib>
#include <functional>
#include <iostream>

namespace shopd::checkout {
namespace {

/// Releases one batch in its own transaction; returns how many it released.
std::size_t release_batch(pqxx::work &tx, std::size_t batch_size) {
    return release_expired_batch(tx, batch_size, kReleasedByJob);
}

/// Runs `batch` (which handles at most `batch_size` rows) in one transaction after another until
/// one comes back short; returns the total. A batch locks at most batch_size rows and is
/// committed before the next, so long runs neither hold many locks nor lose finished work to a
/// later failure.
std::size_t in_batches(pqxx::connection &conn, std::size_t batch_size,
                       const std::function<std::size_t(pqxx::work &)> &batch) {
    std::size_t total = 0;
    for (;;) {
        pqxx::work tx(conn);
        const std::size_t done = batch(tx);
        tx.commit();
        total += done;
        if (!more_batches(done, batch_size)) return total;
    }
}

/// --dry-run: what a run would do now, changing nothing.
void count_only(pqxx::connection &conn, const ReleaseOptions &options) {
    pqxx::read_transaction tx(conn);
    std::cout << "would release " << count_expired(tx) << " reservations" << std::endl;
    std::cout << "would purge "
              << (options.cart_ttl > 0 ? count_stale_carts(tx, options.cart_ttl) : 0) << " carts"
              << std::endl;
    std::cout << "would purge "
              << (options.idempotency_ttl > 0 ? count_old_keys(tx, options.idempotency_ttl) : 0)
              << " idempotency keys" << std::endl;
}

int run(const ReleaseOptions &options) {
    pqxx::connection conn(options.db);
    if (options.check) return check_reserved(conn, std::cout) == 0 ? 0 : 1;
    if (options.dry_run) {
        count_only(conn, options);
        return 0;
    }
    const std::size_t n = options.batch_size;
    const std::size_t released =
        in_batches(conn, n, [n](pqxx::work &tx) { return release_batch(tx, n); });
    std::cout << "released " << released << " reservations" << std::endl;
    // A TTL of 0 turns a purge off; the line is printed all the same, so logs read alike.
    const std::int64_t cart_ttl = options.cart_ttl;
    const std::size_t carts = cart_ttl > 0
                                  ? in_batches(conn, n,
                                               [n, cart_ttl](pqxx::work &tx) {
                                                   return purge_stale_carts(tx, cart_ttl, n);
                                               })
                                  : 0;
    std::cout << "purged " << carts << " carts" << std::endl;
    const std::int64_t key_ttl = options.idempotency_ttl;
    const std::size_t keys =
        key_ttl > 0
            ? in_batches(conn, n,
                         [n, key_ttl](pqxx::work &tx) { return purge_old_keys(tx, key_ttl, n); })
            : 0;
    std::cout << "purged " << keys << " idempotency keys" << std::endl;
    return 0;
}

}  // namespace
}  // namespace shopd::checkout

int main(int argc, char **argv) {
    using namespace shopd::checkout;
    const ParsedOptions parsed =
        parse_release_options(argc, argv, std::getenv("SHOPD_DATABASE_URL"));
    if (!parsed.run) {
        (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.message << std::endl;
        return parsed.exit_code;
    }
    try {
        return run(parsed.options);
    } catch (const pqxx::sql_error &e) {
        std::cerr << "reservation-release: database error " << e.sqlstate() << ": " << e.what()
                  << std::endl;
    } catch (const std::exception &e) {
        std::cerr << "reservation-release: " << e.what() << std::endl;
    }
    return 1;
}
