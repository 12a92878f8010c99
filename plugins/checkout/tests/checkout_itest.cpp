// Integration tests of the checkout plugin through nginx + shopd + PostgreSQL: reserving the cart,
// stock shortages, idempotency, confirm/cancel, lock timeouts and concurrent checkouts.
#include "fixtures.hpp"

#include <chrono>
#include <ctime>
#include <future>
#include <thread>

using namespace shopd::test;
using namespace shopd::test::co;

namespace {

/// Parses "YYYY-MM-DDTHH:MM:SSZ" into epoch seconds; fails the test on any other shape.
long long parse_utc(const std::string &text) {
    std::tm tm{};
    const char *end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    CPPUNIT_ASSERT_MESSAGE("not RFC 3339 UTC: " + text, end && *end == '\0');
    return static_cast<long long>(timegm(&tm));
}

/// A transaction on the test's own connection holding variant rows FOR UPDATE, the way a slow
/// checkout would; rolled back on destruction.
class RowLock {
public:
    explicit RowLock(const std::vector<long long> &variants)
        : db_(env("SHOPD_DATABASE_URL")), tx_(db_) {
        for (const auto v : variants)
            tx_.exec_params("SELECT 1 FROM variants WHERE id = $1 FOR UPDATE", v);
    }
    /// Waits (up to 10 s) until `sessions` sessions wait for a lock. Tests run one at a time, so
    /// they are the requests queued behind this one — directly, or behind a request that waits
    /// for it (the second waiter for a row is blocked by the first, which holds the tuple lock).
    void wait_for_waiter(int sessions = 1) const {
        pqxx::connection probe(env("SHOPD_DATABASE_URL"));
        for (int i = 0; i < 500; ++i) {
            pqxx::nontransaction tx(probe);
            if (tx.exec1(
                      "SELECT count(*) FROM pg_stat_activity WHERE cardinality(pg_blocking_pids(pid)) > 0")
                    [0]
                        .as<int>() >= sessions)
                return;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        CPPUNIT_FAIL("no request ever waited for the test's row lock");
    }
    void release() { tx_.abort(); }

private:
    pqxx::connection db_;
    pqxx::work tx_;
};

}  // namespace

class CheckoutITest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CheckoutITest);
    CPPUNIT_TEST(needsCustomerToken);
    CPPUNIT_TEST(reservesCartAndEmptiesIt);
    CPPUNIT_TEST(shortStockIs400AndChangesNothing);
    CPPUNIT_TEST(emptyCartIs400);
    CPPUNIT_TEST(confirmConsumesStock);
    CPPUNIT_TEST(cancelReturnsStock);
    CPPUNIT_TEST(otherCustomersReservationIs404);
    CPPUNIT_TEST(expiredReservationCannotBeConfirmed);
    CPPUNIT_TEST(shortStockReleasesExpiredReservationFirst);
    CPPUNIT_TEST(sameKeyReplays);
    CPPUNIT_TEST(sameKeyOtherCartIs422);
    CPPUNIT_TEST(failedCheckoutDoesNotKeepKey);
    CPPUNIT_TEST(sameKeyWhileRunningIs409);
    CPPUNIT_TEST(lockTimeoutIs409WithRetryAfter);
    CPPUNIT_TEST(concurrentCheckoutsNeverOversell);
    CPPUNIT_TEST(oppositeLineOrderDoesNotDeadlock);
    CPPUNIT_TEST_SUITE_END();

public:
    void needsCustomerToken() {
        Http http;
        assert_problem(http.post("/api/cart/checkout/", ""), 401, "checkout without token");
        assert_problem(http.post("/api/cart/checkout/", "", "bad-token"), 401,
                       "checkout with bad token");
        assert_problem(http.get("/api/reservations/1/"), 401, "get without token");
        assert_problem(http.post("/api/reservations/1/confirm/", "", "bad"), 401,
                       "confirm with bad token");
        assert_problem(http.post("/api/reservations/1/cancel/", ""), 401, "cancel without token");
    }

    void reservesCartAndEmptiesIt() {
        Http http;
        const auto token = new_customer(http, "GOLD");
        const auto v = new_variants(http, {{"50.00", 20}, {"0.00", 10}});
        add_to_cart(http, token, v[1], 2);   // 500.00 - 15% = 425.00
        add_to_cart(http, token, v[0], 10);  // the contract's seed example: 420.75
        const auto r = checkout(http, token);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201L, r.status);
        CPPUNIT_ASSERT_EQUAL(std::string(""), r.header("Idempotent-Replayed"));
        const auto d = r.json();
        CPPUNIT_ASSERT_EQUAL(std::string("ACTIVE"), str(d["status"]));
        CPPUNIT_ASSERT_EQUAL(std::string("5057.50"), str(d["total"]));
        CPPUNIT_ASSERT_EQUAL(2u, d["items"].Size());
        const auto &first = d["items"][0];  // items in variant-id order
        CPPUNIT_ASSERT_EQUAL(v[0], static_cast<long long>(first["variant_id"].GetInt64()));
        CPPUNIT_ASSERT_EQUAL(10, first["quantity"].GetInt());
        CPPUNIT_ASSERT_EQUAL(std::string("420.75"), str(first["unit_price"]));
        CPPUNIT_ASSERT_EQUAL(std::string("4207.50"), str(first["line_total"]));
        CPPUNIT_ASSERT_EQUAL(std::string("850.00"), str(d["items"][1]["line_total"]));
        const long long ttl =
            parse_utc(str(d["expires_at"])) - static_cast<long long>(std::time(nullptr));
        CPPUNIT_ASSERT_MESSAGE("expires_at - now = " + std::to_string(ttl),
                               ttl > 270 && ttl <= 301);

        const auto s0 = stock_of(http, v[0]);
        CPPUNIT_ASSERT_EQUAL(20LL, s0.stock);
        CPPUNIT_ASSERT_EQUAL(10LL, s0.reserved);
        CPPUNIT_ASSERT_EQUAL(10LL, s0.available);
        CPPUNIT_ASSERT_EQUAL(2LL, stock_of(http, v[1]).reserved);
        CPPUNIT_ASSERT_EQUAL(0u, cart_lines(http, token));

        const auto get = http.get(reservation_path(d["id"].GetInt64()), token);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(get.describe(), 200L, get.status);
        CPPUNIT_ASSERT_EQUAL(r.body, get.body);
    }

    void shortStockIs400AndChangesNothing() {
        Http http;
        const auto token = new_customer(http);
        const auto rival = new_customer(http);
        const auto v = new_variants(http, {{"0.00", 5}, {"0.00", 5}});
        add_to_cart(http, token, v[0], 3);
        add_to_cart(http, token, v[1], 4);
        reserve(http, rival, v[1], 3);  // leaves 2 of v[1]
        const auto r = checkout(http, token);
        assert_problem(r, 400, "short stock");
        const auto d = r.json();
        CPPUNIT_ASSERT_EQUAL(1u, d["variant_ids"].Size());
        CPPUNIT_ASSERT_EQUAL(v[1], static_cast<long long>(d["variant_ids"][0].GetInt64()));
        CPPUNIT_ASSERT_EQUAL("Insufficient stock for variant " + std::to_string(v[1]) +
                                 " (requested 4, available 2).",
                             str(d["errors"]["items"][0]));
        CPPUNIT_ASSERT_EQUAL(0LL, stock_of(http, v[0]).reserved);
        CPPUNIT_ASSERT_EQUAL(3LL, stock_of(http, v[1]).reserved);
        CPPUNIT_ASSERT_EQUAL(2u, cart_lines(http, token));
    }

    void emptyCartIs400() {
        Http http;
        const auto token = new_customer(http);
        assert_problem(checkout(http, token), 400, "customer without a cart");
        CPPUNIT_ASSERT_EQUAL(0u, cart_lines(http, token));  // creates the (empty) cart row
        assert_problem(checkout(http, token), 400, "empty cart");
        assert_problem(checkout(http, token, unique("key")), 400, "empty cart with a fresh key");
    }

    void confirmConsumesStock() { assert_finishes_once("confirm", "CONFIRMED", 7); }

    void cancelReturnsStock() { assert_finishes_once("cancel", "CANCELLED", 10); }

    void otherCustomersReservationIs404() {
        Http http;
        const auto owner = new_customer(http);
        const auto other = new_customer(http);
        const auto v = new_variants(http, {{"0.00", 10}});
        const auto id = reserve(http, owner, v[0], 1);
        assert_problem(http.get(reservation_path(id), other), 404, "get other's");
        assert_problem(http.post(reservation_path(id, "confirm"), "", other), 404,
                       "confirm other's");
        assert_problem(http.post(reservation_path(id, "cancel"), "", other), 404, "cancel other's");
        assert_problem(http.get("/api/reservations/999999999999/", owner), 404, "unknown id");
        assert_problem(http.get("/api/reservations/99999999999999999999/", owner), 404,
                       "id past int64");
        CPPUNIT_ASSERT_EQUAL(std::string("ACTIVE"),
                             str(http.get(reservation_path(id), owner).json()["status"]));
        CPPUNIT_ASSERT_EQUAL(1LL, stock_of(http, v[0]).reserved);
    }

    void expiredReservationCannotBeConfirmed() {
        Http http;
        pqxx::connection db(env("SHOPD_DATABASE_URL"));
        const auto token = new_customer(http);
        const auto v = new_variants(http, {{"0.00", 10}});
        const auto id = reserve(http, token, v[0], 4);
        expire(db, {id});
        assert_problem(http.post(reservation_path(id, "confirm"), "", token), 409,
                       "confirm expired");
        assert_problem(http.post(reservation_path(id, "cancel"), "", token), 409, "cancel expired");
        const auto s = stock_of(http, v[0]);
        CPPUNIT_ASSERT_EQUAL(10LL, s.stock);
        // Giving the units back is the release job's (or a short checkout's) work, not confirm's.
        CPPUNIT_ASSERT(db_status(db, id) == "ACTIVE" || db_status(db, id) == "EXPIRED");
        CPPUNIT_ASSERT_EQUAL(db_status(db, id) == "ACTIVE" ? 4LL : 0LL, s.reserved);
    }

    void shortStockReleasesExpiredReservationFirst() {
        Http http;
        pqxx::connection db(env("SHOPD_DATABASE_URL"));
        const auto early = new_customer(http);
        const auto late = new_customer(http);
        // The expired reservation also holds v[0], a variant the late checkout does not touch.
        const auto v = new_variants(http, {{"0.00", 5}, {"0.00", 5}});
        add_to_cart(http, late, v[1], 3);
        add_to_cart(http, early, v[0], 1);
        add_to_cart(http, early, v[1], 4);
        const long long expired = reserve_cart(http, early);
        expire(db, {expired});

        const auto r = checkout(http, late);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201L, r.status);
        assert_released(db, expired, "checkout", 2, 5);
        CPPUNIT_ASSERT_EQUAL(0LL, stock_of(http, v[0]).reserved);
        CPPUNIT_ASSERT_EQUAL(3LL, stock_of(http, v[1]).reserved);
        CPPUNIT_ASSERT_EQUAL(std::string("EXPIRED"),
                             str(http.get(reservation_path(expired), early).json()["status"]));
    }

    void sameKeyReplays() {
        Http http;
        const OneLineCart cart(http, 10, 2);
        const auto key = unique("key");
        const auto first = checkout(http, cart.token, key);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(first.describe(), 201L, first.status);
        const auto again = checkout(http, cart.token, key);  // a plain retry: the cart is empty now
        CPPUNIT_ASSERT_EQUAL_MESSAGE(again.describe(), 201L, again.status);
        CPPUNIT_ASSERT_EQUAL(std::string("true"), again.header("Idempotent-Replayed"));
        CPPUNIT_ASSERT_EQUAL(first.body, again.body);
        CPPUNIT_ASSERT_EQUAL(2LL, stock_of(http, cart.variant).reserved);
        // The same cart again under the same key is the same request: replayed, cart left alone.
        add_to_cart(http, cart.token, cart.variant, 2);
        const auto third = checkout(http, cart.token, key);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(third.describe(), 201L, third.status);
        CPPUNIT_ASSERT_EQUAL(first.json()["id"].GetInt64(), third.json()["id"].GetInt64());
        CPPUNIT_ASSERT_EQUAL(1u, cart_lines(http, cart.token));
        CPPUNIT_ASSERT_EQUAL(2LL, stock_of(http, cart.variant).reserved);
        // Keys are scoped to the customer: another customer's identical key is a new request.
        const auto other = new_customer(http);
        add_to_cart(http, other, cart.variant, 1);
        const auto theirs = checkout(http, other, key);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(theirs.describe(), 201L, theirs.status);
        CPPUNIT_ASSERT_EQUAL(std::string(""), theirs.header("Idempotent-Replayed"));
        CPPUNIT_ASSERT(first.json()["id"].GetInt64() != theirs.json()["id"].GetInt64());
    }

    void sameKeyOtherCartIs422() {
        Http http;
        const OneLineCart cart(http, 10, 2);
        const auto key = unique("key");
        CPPUNIT_ASSERT_EQUAL(201L, checkout(http, cart.token, key).status);
        add_to_cart(http, cart.token, cart.variant, 3);
        assert_problem(checkout(http, cart.token, key), 422, "same key, other cart");
        CPPUNIT_ASSERT_EQUAL(1u, cart_lines(http, cart.token));
        CPPUNIT_ASSERT_EQUAL(2LL, stock_of(http, cart.variant).reserved);
        const auto fresh = checkout(http, cart.token, unique("key"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(fresh.describe(), 201L, fresh.status);
        CPPUNIT_ASSERT_EQUAL(5LL, stock_of(http, cart.variant).reserved);
    }

    void failedCheckoutDoesNotKeepKey() {
        Http http;
        const OneLineCart cart(http, 5, 4);
        const auto rival = new_customer(http);
        const auto key = unique("key");
        const auto rival_id = reserve(http, rival, cart.variant, 3);
        assert_problem(checkout(http, cart.token, key), 400, "short stock with a key");
        CPPUNIT_ASSERT_EQUAL(200L,
                             http.post(reservation_path(rival_id, "cancel"), "", rival).status);
        const auto retry =
            checkout(http, cart.token, key);  // same key, same cart: now it goes through
        CPPUNIT_ASSERT_EQUAL_MESSAGE(retry.describe(), 201L, retry.status);
        CPPUNIT_ASSERT_EQUAL(std::string(""), retry.header("Idempotent-Replayed"));
        CPPUNIT_ASSERT_EQUAL(4LL, stock_of(http, cart.variant).reserved);
    }

    void sameKeyWhileRunningIs409() {
        Http http;
        const OneLineCart cart(http, 10, 2);
        const auto key = unique("key");
        RowLock lock({cart.variant});
        // The first request takes the key, then waits for the row the test holds.
        auto first = std::async(std::launch::async, [&] {
            Http own;
            return checkout(own, cart.token, key);
        });
        lock.wait_for_waiter();
        const auto started = std::chrono::steady_clock::now();
        const auto second = checkout(http, cart.token, key);
        const auto waited = std::chrono::steady_clock::now() - started;
        lock.release();
        const auto done = first.get();
        assert_problem(second, 409, "same key while the first request runs");
        // At once, not after queueing behind the first request until the lock timeout (2 s).
        CPPUNIT_ASSERT(waited < std::chrono::milliseconds(1000));
        CPPUNIT_ASSERT(str(second.json()["detail"]).find("Idempotency-Key") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(done.describe(), 201L, done.status);
        CPPUNIT_ASSERT_EQUAL(2LL, stock_of(http, cart.variant).reserved);
        const auto replay = checkout(http, cart.token, key);
        CPPUNIT_ASSERT_EQUAL(std::string("true"), replay.header("Idempotent-Replayed"));
        CPPUNIT_ASSERT_EQUAL(done.body, replay.body);
    }

    void lockTimeoutIs409WithRetryAfter() {
        Http http;
        const OneLineCart cart(http, 10, 1);
        RowLock lock({cart.variant});
        const auto started = std::chrono::steady_clock::now();
        const auto r = checkout(http, cart.token);
        const auto waited = std::chrono::steady_clock::now() - started;
        lock.release();
        assert_problem(r, 409, "row held past the lock timeout");
        CPPUNIT_ASSERT(!r.header("Retry-After").empty());
        CPPUNIT_ASSERT(waited >=
                       std::chrono::milliseconds(1500));  // the host's lock timeout is 2 s
        CPPUNIT_ASSERT_EQUAL(0LL, stock_of(http, cart.variant).reserved);
        CPPUNIT_ASSERT_EQUAL(1u, cart_lines(http, cart.token));
    }

    void concurrentCheckoutsNeverOversell() {
        constexpr int kThreads = 8, kQuantity = 3, kStock = 10;  // room for floor(10/3) = 3
        Http setup;
        const auto v = new_variants(setup, {{"0.00", kStock}});
        std::vector<std::string> tokens;
        for (int i = 0; i < kThreads; ++i) {
            tokens.push_back(new_customer(setup));
            add_to_cart(setup, tokens.back(), v[0], kQuantity);
        }
        std::vector<long> statuses(kThreads, 0);
        std::vector<std::thread> threads;
        for (int i = 0; i < kThreads; ++i)
            threads.emplace_back([&, i] {
                Http http;
                statuses[i] = checkout(http, tokens[i]).status;
            });
        for (auto &t : threads) t.join();
        int created = 0, timed_out = 0;
        for (long s : statuses) {
            CPPUNIT_ASSERT_MESSAGE("status " + std::to_string(s), s == 201 || s == 400 || s == 409);
            created += s == 201;
            timed_out += s == 409;
        }
        CPPUNIT_ASSERT(created <= kStock / kQuantity);
        if (timed_out == 0) CPPUNIT_ASSERT_EQUAL(kStock / kQuantity, created);
        const auto s = stock_of(setup, v[0]);
        CPPUNIT_ASSERT_EQUAL(static_cast<long long>(created * kQuantity), s.reserved);
        CPPUNIT_ASSERT_EQUAL(static_cast<long long>(kStock), s.stock);
    }

    void oppositeLineOrderDoesNotDeadlock() {
        constexpr int kRounds = 5;
        Http setup;
        const auto v = new_variants(setup, {{"0.00", 1000}, {"0.00", 1000}});
        const std::string a = new_customer(setup), b = new_customer(setup);
        for (int round = 0; round < kRounds; ++round) {
            // Cart lines (and so each cart's own order) are added in opposite orders.
            add_to_cart(setup, a, v[0], 1);
            add_to_cart(setup, a, v[1], 1);
            add_to_cart(setup, b, v[1], 1);
            add_to_cart(setup, b, v[0], 1);
            // Both checkouts queue behind the test's locks on both rows and start together when
            // they go: locking in cart order would then deadlock every time (A holds v0 and
            // wants v1, B holds v1 and wants v0); locking in id order never does.
            RowLock lock({v[0], v[1]});
            auto ra = std::async(std::launch::async, [&] {
                Http http;
                return checkout(http, a).status;
            });
            auto rb = std::async(std::launch::async, [&] {
                Http http;
                return checkout(http, b).status;
            });
            lock.wait_for_waiter(2);
            lock.release();
            // A deadlock would surface as 409 (SQLSTATE 40P01), not 5xx: so insist on 201.
            CPPUNIT_ASSERT_EQUAL(201L, ra.get());
            CPPUNIT_ASSERT_EQUAL(201L, rb.get());
        }
        CPPUNIT_ASSERT_EQUAL(2LL * kRounds, stock_of(setup, v[0]).reserved);
        CPPUNIT_ASSERT_EQUAL(2LL * kRounds, stock_of(setup, v[1]).reserved);
    }

private:
    /// Reserves 3 of a variant with stock 10 and `action`s it ("confirm" or "cancel"): 200 with
    /// `status`, `stock_after` left in stock and nothing reserved. The reservation is no longer
    /// ACTIVE, so a second confirm or cancel is 409 and changes nothing.
    static void assert_finishes_once(const std::string &action, const std::string &status,
                                     long long stock_after) {
        Http http;
        const auto token = new_customer(http);
        const auto v = new_variants(http, {{"0.00", 10}});
        const auto id = reserve(http, token, v[0], 3);
        CPPUNIT_ASSERT_EQUAL(3LL, stock_of(http, v[0]).reserved);
        const auto r = http.post(reservation_path(id, action), "", token);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        CPPUNIT_ASSERT_EQUAL(status, str(r.json()["status"]));
        const auto s = stock_of(http, v[0]);
        CPPUNIT_ASSERT_EQUAL(stock_after, s.stock);
        CPPUNIT_ASSERT_EQUAL(0LL, s.reserved);
        for (const std::string again : {"confirm", "cancel"})
            assert_problem(http.post(reservation_path(id, again), "", token), 409,
                           (again + " after " + action).c_str());
        CPPUNIT_ASSERT_EQUAL(stock_after, stock_of(http, v[0]).stock);
        CPPUNIT_ASSERT_EQUAL(status, str(http.get(reservation_path(id), token).json()["status"]));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CheckoutITest);
