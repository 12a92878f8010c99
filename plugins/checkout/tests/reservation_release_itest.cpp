// Integration tests of the reservation-release binary against the test stack's database: what it
// releases, what it leaves alone, --dry-run, two copies at once, its exit codes, and the purges
// of abandoned carts and old Idempotency-Keys.
#include "fixtures.hpp"

#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <iostream>
#include <regex>

using namespace shopd::test;
using namespace shopd::test::co;

namespace {

using Run = CommandRun;

/// Runs the built binary with `args` (shell words) and captures its output and exit code.
Run run_release(const std::string &args) {
    return run_command(std::string(RESERVATION_RELEASE_BIN) + " " + args);
}

std::string db_flag() { return "--db '" + env("SHOPD_DATABASE_URL") + "'"; }

/// Ids as a PostgreSQL array literal.
std::string pg_ids(const std::vector<long long> &ids) {
    std::string out = "{";
    for (const auto id : ids) out += (out.size() > 1 ? "," : "") + std::to_string(id);
    return out + "}";
}

/// N from the output line "<prefix> N <what>"; fails the test if the output has no such line.
long long count_in(const Run &run, const std::string &prefix,
                   const std::string &what = "reservations") {
    std::smatch m;
    const std::regex line("(^|\n)" + prefix + " ([0-9]+) " + what + "(\n|$)");
    CPPUNIT_ASSERT_MESSAGE("no \"" + prefix + " N " + what + "\" in: " + run.output,
                           std::regex_search(run.output, m, line));
    return std::stoll(m[2].str());
}

/// The customer's cart id (GET /api/cart/ creates the cart if needed).
long long cart_id(Http &http, const std::string &token) {
    const auto r = http.get("/api/cart/", token);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
    return r.json()["id"].GetInt64();
}

/// A customer whose cart holds one line of a fresh variant; returns its cart id.
long long cart_with_line(Http &http, const std::string &token) {
    add_to_cart(http, token, new_variants(http, {{"0.00", 10}})[0], 1);
    return cart_id(http, token);
}

/// Moves a cart's last write `age` (an SQL interval: "10 days") into the past.
void age_cart(pqxx::connection &db, long long cart, const std::string &age) {
    pqxx::work tx(db);
    tx.exec_params("UPDATE carts SET updated_at = now() - $2::interval WHERE id = $1", cart, age);
    tx.commit();
}

/// Rows of a cart: 1 + its lines, or 0 when the cart row is gone (then its lines must be too).
long long cart_rows(pqxx::connection &db, long long cart) {
    pqxx::nontransaction tx(db);
    return tx
        .exec_params1(
            "SELECT (SELECT count(*) FROM carts WHERE id = $1) + "
            "(SELECT count(*) FROM cart_items WHERE cart_id = $1)",
            cart)[0]
        .as<long long>();
}

/// Checks out a fresh one-line cart with Idempotency-Key `key`; returns the reservation id.
long long checkout_with_key(Http &http, const std::string &token, const std::string &key) {
    add_to_cart(http, token, new_variants(http, {{"0.00", 10}})[0], 1);
    const auto r = checkout(http, token, key);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201L, r.status);
    return r.json()["id"].GetInt64();
}

/// Moves an Idempotency-Key's creation `age` into the past (keys are unique() strings).
void age_key(pqxx::connection &db, const std::string &key, const std::string &age) {
    pqxx::work tx(db);
    tx.exec_params("UPDATE idempotency_keys SET created_at = now() - $2::interval WHERE key = $1",
                   key, age);
    tx.commit();
}

bool key_exists(pqxx::connection &db, const std::string &key) {
    pqxx::nontransaction tx(db);
    return tx.exec_params1("SELECT count(*) FROM idempotency_keys WHERE key = $1", key)[0]
               .as<long long>() > 0;
}

/// A fresh customer with an Idempotency-Key of a checkout and a one-line cart, both last written
/// `age` (an SQL interval) ago: where the purge tests start.
struct AgedCartAndKey {
    explicit AgedCartAndKey(const std::string &age)
        : db(env("SHOPD_DATABASE_URL")), token(new_customer(http)), key(unique("key")) {
        checkout_with_key(http, token, key);
        cart = cart_with_line(http, token);
        age_cart(db, cart, age);
        age_key(db, key, age);
    }

    /// Asserts the cart (its row and its line) and the key are both still stored.
    void assert_both_kept() {
        CPPUNIT_ASSERT_EQUAL(2LL, cart_rows(db, cart));
        CPPUNIT_ASSERT(key_exists(db, key));
    }

    /// Runs a release with the default TTLs, which must purge both: leaves nothing old behind
    /// for other tests' counts.
    void assert_default_run_purges_both() {
        CPPUNIT_ASSERT_EQUAL(0, run_release(db_flag()).exit_code);
        CPPUNIT_ASSERT_EQUAL(0LL, cart_rows(db, cart));
        CPPUNIT_ASSERT(!key_exists(db, key));
    }

    Http http;
    pqxx::connection db;
    const std::string token, key;
    long long cart = 0;
};

/// A transaction of the test holding a cart row FOR UPDATE, as a running cart request or
/// checkout does; rolled back on release() or destruction.
class CartLock {
public:
    explicit CartLock(long long cart) : db_(env("SHOPD_DATABASE_URL")), tx_(db_) {
        tx_.exec_params("SELECT 1 FROM carts WHERE id = $1 FOR UPDATE", cart);
    }
    void release() { tx_.abort(); }

private:
    pqxx::connection db_;
    pqxx::work tx_;
};

}  // namespace

class ReservationReleaseITest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ReservationReleaseITest);
    CPPUNIT_TEST(releasesOnlyExpiredActive);
    CPPUNIT_TEST(dryRunChangesNothing);
    CPPUNIT_TEST(twoCopiesReleaseEachOnce);
    CPPUNIT_TEST(helpAndBadFlags);
    CPPUNIT_TEST(purgesUntouchedCartsOnly);
    CPPUNIT_TEST(purgesOldIdempotencyKeys);
    CPPUNIT_TEST(ttlZeroNeverPurges);
    CPPUNIT_TEST(dryRunPurgesNothing);
    CPPUNIT_TEST(checkFindsReservedOffAndChangesNothing);
    CPPUNIT_TEST(releases20kInSetBasedBatches);
    CPPUNIT_TEST_SUITE_END();

public:
    void releasesOnlyExpiredActive() {
        Http http;
        pqxx::connection db(env("SHOPD_DATABASE_URL"));
        const auto token = new_customer(http);
        const auto v = new_variants(http, {{"0.00", 50}, {"0.00", 50}});
        add_to_cart(http, token, v[0], 2);
        add_to_cart(http, token, v[1], 3);
        const long long two_lines = reserve_cart(http, token);
        const long long one_line = reserve(http, token, v[0], 4);
        const long long live = reserve(http, token, v[0], 5);
        const long long cancelled = reserve(http, token, v[0], 6);
        const long long confirmed = reserve(http, token, v[1], 7);
        CPPUNIT_ASSERT_EQUAL(200L,
                             http.post(reservation_path(cancelled, "cancel"), "", token).status);
        CPPUNIT_ASSERT_EQUAL(200L,
                             http.post(reservation_path(confirmed, "confirm"), "", token).status);
        expire(db, {two_lines, one_line, cancelled, confirmed});
        CPPUNIT_ASSERT_EQUAL(11LL, stock_of(http, v[0]).reserved);  // 2 + 4 + 5

        const auto run = run_release(db_flag() + " --batch-size 1");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(run.output, 0, run.exit_code);
        CPPUNIT_ASSERT(count_in(run, "released") >= 2);

        assert_released(db, two_lines, "reservation-release", 2, 5);
        assert_released(db, one_line, "reservation-release", 1, 4);
        CPPUNIT_ASSERT_EQUAL(std::string("ACTIVE"), db_status(db, live));
        CPPUNIT_ASSERT_EQUAL(std::string("CANCELLED"), db_status(db, cancelled));
        CPPUNIT_ASSERT_EQUAL(std::string("CONFIRMED"), db_status(db, confirmed));
        CPPUNIT_ASSERT_EQUAL(
            0LL, log_rows(db, live) + log_rows(db, cancelled) + log_rows(db, confirmed));

        const auto s0 = stock_of(http, v[0]), s1 = stock_of(http, v[1]);
        CPPUNIT_ASSERT_EQUAL(5LL, s0.reserved);  // only the live reservation
        CPPUNIT_ASSERT_EQUAL(50LL, s0.stock);
        CPPUNIT_ASSERT_EQUAL(0LL, s1.reserved);
        CPPUNIT_ASSERT_EQUAL(43LL, s1.stock);  // the confirmed 7 stay sold

        // Nothing left of ours: a second run releases none of them again.
        CPPUNIT_ASSERT_EQUAL(0, run_release(db_flag()).exit_code);
        assert_released(db, two_lines, "reservation-release", 2, 5);
        CPPUNIT_ASSERT_EQUAL(5LL, stock_of(http, v[0]).reserved);
    }

    void dryRunChangesNothing() {
        Http http;
        pqxx::connection db(env("SHOPD_DATABASE_URL"));
        const ExpiredReservations expired(http, db, 20, {2, 3});
        const long long a = expired.ids[0], b = expired.ids[1];
        const auto run = run_release(db_flag() + " --dry-run");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(run.output, 0, run.exit_code);
        CPPUNIT_ASSERT(count_in(run, "would release") >= 2);
        CPPUNIT_ASSERT_EQUAL(std::string("ACTIVE"), db_status(db, a));
        CPPUNIT_ASSERT_EQUAL(std::string("ACTIVE"), db_status(db, b));
        CPPUNIT_ASSERT_EQUAL(0LL, log_rows(db, a) + log_rows(db, b));
        CPPUNIT_ASSERT_EQUAL(5LL, stock_of(http, expired.variant).reserved);
        // Leave nothing expired behind for other tests' counts.
        CPPUNIT_ASSERT_EQUAL(0, run_release(db_flag()).exit_code);
        CPPUNIT_ASSERT_EQUAL(0LL, stock_of(http, expired.variant).reserved);
    }

    void twoCopiesReleaseEachOnce() {
        constexpr int kReservations = 40;
        Http http;
        pqxx::connection db(env("SHOPD_DATABASE_URL"));
        const auto token = new_customer(http);
        const auto v = new_variants(http, {{"0.00", 100}, {"0.00", 100}});
        std::vector<long long> ids;
        for (int i = 0; i < kReservations; ++i) {
            add_to_cart(http, token, v[i % 2], 1);
            add_to_cart(http, token, v[(i + 1) % 2], 1);
            ids.push_back(reserve_cart(http, token));
        }
        expire(db, ids);
        const std::string args = db_flag() + " --batch-size 3";
        auto first = std::async(std::launch::async, [&] { return run_release(args); });
        auto second = std::async(std::launch::async, [&] { return run_release(args); });
        const Run r1 = first.get(), r2 = second.get();
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r1.output, 0, r1.exit_code);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r2.output, 0, r2.exit_code);
        CPPUNIT_ASSERT(count_in(r1, "released") + count_in(r2, "released") >= kReservations);
        for (const auto id : ids) assert_released(db, id, "reservation-release", 2, 2);
        CPPUNIT_ASSERT_EQUAL(0LL, stock_of(http, v[0]).reserved);
        CPPUNIT_ASSERT_EQUAL(0LL, stock_of(http, v[1]).reserved);
    }

    void helpAndBadFlags() {
        const auto help = run_release("--help");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(help.output, 0, help.exit_code);
        CPPUNIT_ASSERT(help.output.find("--dry-run") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(2, run_release("--no-such-flag").exit_code);
        CPPUNIT_ASSERT_EQUAL(2, run_release(db_flag() + " --batch-size 0").exit_code);
        CPPUNIT_ASSERT_EQUAL(2, run_release(db_flag() + " --cart-ttl -1").exit_code);
        CPPUNIT_ASSERT_EQUAL(2, run_release(db_flag() + " --idempotency-ttl soon").exit_code);
        for (const char *flag : {"--cart-ttl", "--idempotency-ttl", "--batch-size", "--db"})
            CPPUNIT_ASSERT_MESSAGE(flag, help.output.find(flag) != std::string::npos);
        const auto down = run_release("--db 'postgresql://127.0.0.1:1/nowhere?connect_timeout=2'");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(down.output, 1, down.exit_code);
        CPPUNIT_ASSERT(down.output.find("reservation-release") != std::string::npos);
    }

    void purgesUntouchedCartsOnly() {
        Http http;
        pqxx::connection db(env("SHOPD_DATABASE_URL"));
        const auto abandoned_owner = new_customer(http);
        const long long abandoned = cart_with_line(http, abandoned_owner);
        add_to_cart(http, abandoned_owner, new_variants(http, {{"0.00", 10}})[0], 2);
        const long long fresh = cart_with_line(http, new_customer(http));
        const long long recent = cart_with_line(http, new_customer(http));  // within the TTL
        const long long in_use = cart_with_line(http, new_customer(http));
        age_cart(db, abandoned, "8 days");
        age_cart(db, recent, "6 days");
        age_cart(db, in_use, "8 days");
        CPPUNIT_ASSERT_EQUAL(3LL, cart_rows(db, abandoned));

        // The default TTL is 7 days; a cart held by a running request is skipped, not waited for.
        CartLock lock(in_use);
        const auto run = run_release(db_flag() + " --batch-size 1");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(run.output, 0, run.exit_code);
        CPPUNIT_ASSERT_MESSAGE(run.output, count_in(run, "purged", "carts") >= 1);
        CPPUNIT_ASSERT_EQUAL(0LL, cart_rows(db, abandoned));  // the cart and both its lines
        CPPUNIT_ASSERT_EQUAL(2LL, cart_rows(db, fresh));
        CPPUNIT_ASSERT_EQUAL(2LL, cart_rows(db, recent));
        CPPUNIT_ASSERT_EQUAL(2LL, cart_rows(db, in_use));

        lock.release();
        CPPUNIT_ASSERT_EQUAL(0, run_release(db_flag()).exit_code);
        CPPUNIT_ASSERT_EQUAL(0LL, cart_rows(db, in_use));
        CPPUNIT_ASSERT_EQUAL(2LL, cart_rows(db, recent));
        // A shorter TTL reaches the 6-day-old cart; the fresh one is still kept.
        const auto short_ttl = run_release(db_flag() + " --cart-ttl 86400");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(short_ttl.output, 0, short_ttl.exit_code);
        CPPUNIT_ASSERT(count_in(short_ttl, "purged", "carts") >= 1);
        CPPUNIT_ASSERT_EQUAL(0LL, cart_rows(db, recent));
        CPPUNIT_ASSERT_EQUAL(2LL, cart_rows(db, fresh));

        // The owner of a purged cart simply starts a new, empty one.
        const auto cart = http.get("/api/cart/", abandoned_owner);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(cart.describe(), 200L, cart.status);
        CPPUNIT_ASSERT_EQUAL(0u, cart.json()["items"].Size());
        CPPUNIT_ASSERT(cart.json()["id"].GetInt64() != abandoned);
    }

    void purgesOldIdempotencyKeys() {
        Http http;
        pqxx::connection db(env("SHOPD_DATABASE_URL"));
        const auto token = new_customer(http);
        const auto old_key = unique("old-key"), new_key = unique("new-key");
        const long long first = checkout_with_key(http, token, old_key);
        checkout_with_key(http, token, new_key);
        age_key(db, old_key, "25 hours");
        age_key(db, new_key, "23 hours");

        const auto run = run_release(db_flag() + " --batch-size 1");  // default TTL: 24 h
        CPPUNIT_ASSERT_EQUAL_MESSAGE(run.output, 0, run.exit_code);
        CPPUNIT_ASSERT_MESSAGE(run.output, count_in(run, "purged", "idempotency keys") >= 1);
        CPPUNIT_ASSERT(!key_exists(db, old_key));
        CPPUNIT_ASSERT(key_exists(db, new_key));
        // The reservation stays; the purged key no longer replays it: a new request.
        CPPUNIT_ASSERT_EQUAL(std::string("ACTIVE"), db_status(db, first));
        CPPUNIT_ASSERT(checkout_with_key(http, token, old_key) != first);

        const auto short_ttl = run_release(db_flag() + " --idempotency-ttl 3600");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(short_ttl.output, 0, short_ttl.exit_code);
        CPPUNIT_ASSERT(!key_exists(db, new_key));
        CPPUNIT_ASSERT(key_exists(db, old_key));  // stored again just now
    }

    void ttlZeroNeverPurges() {
        AgedCartAndKey aged("400 days");
        const auto run = run_release(db_flag() + " --cart-ttl 0 --idempotency-ttl 0");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(run.output, 0, run.exit_code);
        CPPUNIT_ASSERT_EQUAL(0LL, count_in(run, "purged", "carts"));
        CPPUNIT_ASSERT_EQUAL(0LL, count_in(run, "purged", "idempotency keys"));
        aged.assert_both_kept();
        // Each TTL is independent of the other.
        CPPUNIT_ASSERT_EQUAL(0, run_release(db_flag() + " --cart-ttl 0").exit_code);
        CPPUNIT_ASSERT_EQUAL(2LL, cart_rows(aged.db, aged.cart));
        CPPUNIT_ASSERT(!key_exists(aged.db, aged.key));
        aged.assert_default_run_purges_both();
    }

    void dryRunPurgesNothing() {
        AgedCartAndKey aged("30 days");
        const auto run = run_release(db_flag() + " --dry-run");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(run.output, 0, run.exit_code);
        CPPUNIT_ASSERT(count_in(run, "would purge", "carts") >= 1);
        CPPUNIT_ASSERT(count_in(run, "would purge", "idempotency keys") >= 1);
        aged.assert_both_kept();
        const auto off = run_release(db_flag() + " --dry-run --cart-ttl 0 --idempotency-ttl 0");
        CPPUNIT_ASSERT_EQUAL(0LL, count_in(off, "would purge", "carts"));
        CPPUNIT_ASSERT_EQUAL(0LL, count_in(off, "would purge", "idempotency keys"));
        aged.assert_default_run_purges_both();
    }

    // 20k expired reservations of one customer over 50 variants, one or two items each, written
    // through SQL (bench/run's release_100k does 100k the same way): one run of the default
    // batch size releases every one, gives every unit back and logs each release once.
    void releases20kInSetBasedBatches() {
        Http http;
        const auto customer = new_customer_with_id(http);
        std::vector<std::pair<std::string, int>> specs(50, {"0.00", 1000000});
        const auto variants = new_variants(http, specs);
        pqxx::connection db(env("SHOPD_DATABASE_URL"));
        {
            pqxx::work tx(db);
            tx.exec_params(
                "WITH v AS (SELECT row_number() OVER (ORDER BY id) - 1 AS k, id FROM variants "
                "WHERE id = ANY($2::bigint[])), "
                "r AS (INSERT INTO reservations (customer_id, expires_at, total) "
                "SELECT $1, now() - interval '1 hour' - g * interval '1 ms', 3 "
                "FROM generate_series(1, 20000) g RETURNING id), "
                "i AS (INSERT INTO reservation_items "
                "(reservation_id, variant_id, quantity, unit_price, line_total) "
                "SELECT r.id, v.id, 1, 1, 1 FROM r JOIN v ON v.k = r.id % 50 "
                "UNION ALL SELECT r.id, v.id, 2, 1, 2 FROM r JOIN v ON v.k = (r.id + 1) % 50 "
                "WHERE r.id % 2 = 0 RETURNING variant_id, quantity) "
                "UPDATE variants SET reserved = reserved + g.q FROM (SELECT variant_id, "
                "sum(quantity) AS q FROM i GROUP BY variant_id) g WHERE variants.id = g.variant_id",
                customer.id, pg_ids(variants));
            tx.commit();
        }
        const auto started = std::chrono::steady_clock::now();
        const auto run = run_release(db_flag() + " --cart-ttl 0 --idempotency-ttl 0");
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
        std::cerr << "\n[release] 20k expired reservations released in " << ms << " ms"
                  << std::endl;
        CPPUNIT_ASSERT_EQUAL_MESSAGE(run.output, 0, run.exit_code);
        CPPUNIT_ASSERT(count_in(run, "released") >= 20000);
        pqxx::nontransaction tx(db);
        const auto row = tx.exec_params1(
            "SELECT count(*) FILTER (WHERE r.status = 'EXPIRED'), "
            "count(*) FILTER (WHERE r.status = 'ACTIVE'), "
            "(SELECT count(*) FROM expiry_log l JOIN reservations x ON x.id = l.reservation_id "
            "WHERE x.customer_id = $1 AND l.released_by = 'reservation-release'), "
            "(SELECT count(*) FROM (SELECT reservation_id FROM expiry_log GROUP BY reservation_id "
            "HAVING count(*) > 1) d), "
            "(SELECT coalesce(sum(l.unit_count), 0) FROM expiry_log l JOIN reservations x "
            "ON x.id = l.reservation_id WHERE x.customer_id = $1), "
            "(SELECT sum(reserved) FROM variants WHERE id = ANY($2::bigint[])) "
            "FROM reservations r WHERE r.customer_id = $1",
            customer.id, pg_ids(variants));
        CPPUNIT_ASSERT_EQUAL(20000LL, row[0].as<long long>());
        CPPUNIT_ASSERT_EQUAL(0LL, row[1].as<long long>());
        CPPUNIT_ASSERT_EQUAL(20000LL, row[2].as<long long>());
        CPPUNIT_ASSERT_EQUAL(0LL, row[3].as<long long>());
        CPPUNIT_ASSERT_EQUAL(20000LL + 10000LL * 2, row[4].as<long long>());
        CPPUNIT_ASSERT_EQUAL(0LL, row[5].as<long long>());
    }

    void checkFindsReservedOffAndChangesNothing() {
        Http http;
        pqxx::connection db(env("SHOPD_DATABASE_URL"));
        // A variant of this test's own with 2 + 3 held by ACTIVE reservations, both expired: a
        // check must not release them.
        const ExpiredReservations expired(http, db, 20, {2, 3});
        const long long v = expired.variant;
        const auto sku = str(http.get("/api/variants/" + std::to_string(v) + "/").json()["sku"]);
        const std::string line_start = "mismatch: variant " + std::to_string(v) + " sku " + sku;
        const auto names_ours = [&](const Run &run) {
            return run.output.find(line_start + " ") != std::string::npos;
        };
        const auto clean = run_release(db_flag() + " --check");
        CPPUNIT_ASSERT_MESSAGE(clean.output.substr(0, 2000), !names_ours(clean));
        // Other tests may leave variants off (catalog_itest writes reserved directly), so "ok"
        // and exit 0 are only required when nothing at all is off.
        if (clean.output.find("mismatch:") == std::string::npos) {
            CPPUNIT_ASSERT_EQUAL_MESSAGE(clean.output, 0, clean.exit_code);
            CPPUNIT_ASSERT_MESSAGE(
                clean.output,
                std::regex_search(clean.output, std::regex("^ok: [1-9][0-9]* variants checked")));
        }

        const auto set_reserved = [&](int reserved) {
            pqxx::work tx(db);
            tx.exec_params("UPDATE variants SET reserved = $2 WHERE id = $1", v, reserved);
            tx.commit();
        };
        set_reserved(8);  // 5 held
        const auto off = run_release(db_flag() + " --check");
        set_reserved(5);  // fixed back before asserting
        CPPUNIT_ASSERT_EQUAL_MESSAGE(off.output.substr(0, 2000), 1, off.exit_code);
        CPPUNIT_ASSERT_MESSAGE(
            off.output.substr(0, 2000),
            off.output.find(line_start + " reserved 8 expected 5") != std::string::npos);
        CPPUNIT_ASSERT(off.output.find("ok:") == std::string::npos);

        // Read-only: the expired reservations are still ACTIVE, nothing was logged or released.
        for (const auto id : expired.ids) {
            CPPUNIT_ASSERT_EQUAL(std::string("ACTIVE"), db_status(db, id));
            CPPUNIT_ASSERT_EQUAL(0LL, log_rows(db, id));
        }
        CPPUNIT_ASSERT_EQUAL(5LL, stock_of(http, v).reserved);
        CPPUNIT_ASSERT(!names_ours(run_release(db_flag() + " --check")));
        CPPUNIT_ASSERT(run_release("--help").output.find("--check") != std::string::npos);
        // Leave nothing expired behind for other tests' counts.
        CPPUNIT_ASSERT_EQUAL(0, run_release(db_flag()).exit_code);
        CPPUNIT_ASSERT_EQUAL(0LL, stock_of(http, v).reserved);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ReservationReleaseITest);
