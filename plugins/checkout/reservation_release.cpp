// reservation-release: releases expired reservations in batches, one transaction each (run by
// systemd/reservation-release.timer). Exit 0 done, 1 database error, 2 bad flags.
#include "checkout_domain.hpp"
#include "release.hpp"
#include "release_options.hpp"

#include <pqxx/pqxx>

#include <cstdlib>
#include <iostream>

namespace shopd::checkout {
namespace {

/// Releases one batch in its own transaction; returns how many it released.
std::size_t release_batch(pqxx::connection &conn, std::size_t batch_size) {
    pqxx::work tx(conn);
    const Ids batch = lock_expired_batch(tx, batch_size);
    lock_variants_of(tx, batch);
    const std::size_t released = release_locked(tx, batch, kReleasedByJob);
    tx.commit();
    return released;
}

int run(const ReleaseOptions &options) {
    pqxx::connection conn(options.db);
    if (options.dry_run) {
        pqxx::read_transaction tx(conn);
        std::cout << "would release " << count_expired(tx) << " reservations" << std::endl;
        return 0;
    }
    std::size_t total = 0;
    // A batch locks at most batch_size rows and is committed before the next, so long runs
    // neither hold many locks nor lose finished work to a later failure.
    for (;;) {
        const std::size_t released = release_batch(conn, options.batch_size);
        total += released;
        if (!more_batches(released, options.batch_size)) break;
    }
    std::cout << "released " << total << " reservations" << std::endl;
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
