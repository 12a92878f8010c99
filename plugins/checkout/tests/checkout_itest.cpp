// Integration tests of the checkout plugin through nginx + shopd + PostgreSQL: reserving the cart,
// stock shortages, idempotency, confirm/cancel, lock timeouts, concurrent checkouts and the
// reservations list.
#include "fixtures.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <ctime>
#include <future>
#include <thread>

/// Lets CPPUNIT_ASSERT_EQUAL compare lists of ids and print them as "[3, 2, 1]".
template <>
struct CppUnit::assertion_traits<std::vector<long long>> {
    static bool equal(const std::vector<long long> &a, const std::vector<long long> &b) {
        return a == b;
    }
    static std::string toString(const std::vector<long long> &ids) {
        std::string out = "[";
        for (std::size_t i = 0; i < ids.size(); ++i)
            out += (i ? ", " : "") + std::to_string(ids[i]);
        return out + "]";
    }
};

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

/// GET /api/reservations/ with `query` ("" or "?status=...").
Response list(Http &http, const std::string &query, const std::string &token) {
    return http.get("/api/reservations/" + query, token);
}

/// A JSON value as compact text, to compare a list item with the detail body byte for byte.
std::string compact(const rapidjson::Value &v) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
    return std::string(buf.GetString(), buf.GetSize());
}

/// The ids of a list page's results, in order; asserts a 200 page whose count is `count`.
std::vector<long long> page_ids(const Response &r, long long count) {
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
    const auto d = r.json();
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), count,
                                 static_cast<long long>(d["count"].GetInt64()));
    std::vector<long long> ids;
    for (const auto &item : d["results"].GetArray()) ids.push_back(item["id"].GetInt64());
    return ids;
}

/// Sets a reservation's status in the table, as reservation-release would mark it EXPIRED (its
/// held units stay counted in reserved: the test's variant is its own).
void set_status(pqxx::connection &db, long long id, const std::string &status) {
    pqxx::work tx(db);
    tx.exec_params("UPDATE reservations SET status = $2 WHERE id = $1", id, status);
    tx.commit();
}

using Ids = std::vector<long long>;

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
    CPPUNIT_TEST(listNeedsToken);
    CPPUNIT_TEST(listShowsOwnNewestFirst);
    CPPUNIT_TEST(adminListsAllAndByCustomer);
    CPPUNIT_TEST(listFiltersByStatus);
    CPPUNIT_TEST(listPaginates);
    CPPUNIT_TEST(listBadFiltersAre400);
    CPPUNIT_TEST(metricsCountReservationsInTheDatabase);
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
        const ExpiredReservations expired(http, db, 10, {4});
        const auto id = expired.ids[0];
        assert_problem(http.post(reservation_path(id, "confirm"), "", expired.token), 409,
                       "confirm expired");
        assert_problem(http.post(reservation_path(id, "cancel"), "", expired.token), 409,
                       "cancel expired");
        const auto s = stock_of(http, expired.variant);
        CPPUNIT_ASSERT_EQUAL(10LL, s.stock);
        // Giving the units back is the release job's (or a short checkout's) work, not confirm's.
        CPPUNIT_ASSERT(db_status(db, id) == "ACTIVE" || db_status(db, id) == "EXPIRED");
        CPPUNIT_ASSERT_EQUAL(db_status(db, id) == "ACTIVE" ? 4LL : 0LL, s.reserved);
    }

    /// /metrics' shopd_reservations_total (the "metrics.checkout" service) counts the table:
    /// created equals count(*), and a checkout + confirm adds one to created and to confirmed.
    void metricsCountReservationsInTheDatabase() {
        Http http;
        pqxx::connection db(env("SHOPD_DATABASE_URL"));
        const auto metric = [&](const std::string &event) {
            const std::string text = http.get("/metrics").body;
            const std::string key = "shopd_reservations_total{event=\"" + event + "\"} ";
            const auto at = text.find(key);
            CPPUNIT_ASSERT_MESSAGE("no " + key + "in /metrics", at != std::string::npos);
            return std::stoll(text.substr(at + key.size()));
        };
        const long long created = metric("created"), confirmed = metric("confirmed");
        pqxx::nontransaction tx(db);
        CPPUNIT_ASSERT_EQUAL(tx.exec1("SELECT count(*) FROM reservations")[0].as<long long>(),
                             created);
        const auto token = new_customer(http);
        add_to_cart(http, token, new_variants(http, {{"0.00", 5}})[0], 2);
        const long long id = reserve_cart(http, token);
        const auto r = http.post(reservation_path(id, "confirm"), "", token);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        CPPUNIT_ASSERT_EQUAL(created + 1, metric("created"));
        CPPUNIT_ASSERT_EQUAL(confirmed + 1, metric("confirmed"));
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

    void listNeedsToken() {
        Http http;
        assert_problem(list(http, "", ""), 401, "list without token");
        assert_problem(list(http, "", "bad-token"), 401, "list with bad token");
        assert_problem(list(http, "?status=BOGUS", "bad-token"), 401, "auth comes before 400");
        assert_problem(list(http, "?customer=1", ""), 401, "?customer= without token");
    }

    void listShowsOwnNewestFirst() {
        Http http;
        const auto a = new_customer_with_id(http);
        const auto b = new_customer_with_id(http);
        const auto v = new_variants(http, {{"0.00", 50}, {"10.00", 50}});
        const long long r1 = reserve(http, a.token, v[0], 1);
        const long long r2 = reserve(http, a.token, v[0], 2);
        add_to_cart(http, a.token, v[0], 3);
        add_to_cart(http, a.token, v[1], 1);
        const long long r3 = reserve_cart(http, a.token);  // two lines
        const long long theirs = reserve(http, b.token, v[0], 1);

        const auto r = list(http, "", a.token);
        CPPUNIT_ASSERT_EQUAL((Ids{r3, r2, r1}), page_ids(r, 3));
        const auto d = r.json();
        CPPUNIT_ASSERT(d["next"].IsNull());
        CPPUNIT_ASSERT(d["previous"].IsNull());
        // Each item is the reservation exactly as GET /api/reservations/<id>/ answers it.
        for (const auto &item : d["results"].GetArray()) {
            const auto detail = http.get(reservation_path(item["id"].GetInt64()), a.token);
            CPPUNIT_ASSERT_EQUAL(detail.body, compact(item));
        }
        CPPUNIT_ASSERT_EQUAL(2u, d["results"][0]["items"].Size());
        CPPUNIT_ASSERT_EQUAL(std::string("2010.00"),
                             str(d["results"][0]["total"]));  // 3 x 500.00 + 510.00

        CPPUNIT_ASSERT_EQUAL((Ids{theirs}), page_ids(list(http, "", b.token), 1));
        // A customer's ?customer= is ignored: the list stays its own, whatever id it names.
        CPPUNIT_ASSERT_EQUAL((Ids{theirs}),
                             page_ids(list(http, "?customer=" + std::to_string(a.id), b.token), 1));
        CPPUNIT_ASSERT_EQUAL((Ids{theirs}), page_ids(list(http, "?customer=abc", b.token), 1));
        // The path without its trailing slash is the same list.
        CPPUNIT_ASSERT_EQUAL((Ids{theirs}), page_ids(http.get("/api/reservations", b.token), 1));

        const auto none = list(http, "", new_customer(http));
        CPPUNIT_ASSERT_EQUAL(Ids{}, page_ids(none, 0));
        CPPUNIT_ASSERT(none.json()["next"].IsNull());
    }

    void adminListsAllAndByCustomer() {
        Http http;
        const auto a = new_customer_with_id(http);
        const auto b = new_customer_with_id(http);
        const auto v = new_variants(http, {{"0.00", 50}});
        const long long a1 = reserve(http, a.token, v[0], 1);
        const long long b1 = reserve(http, b.token, v[0], 1);
        const long long a2 = reserve(http, a.token, v[0], 1);

        const auto all = list(http, "?page_size=100", admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(all.describe(), 200L, all.status);
        const auto d = all.json();
        CPPUNIT_ASSERT(d["count"].GetInt64() >= 3);
        const auto &results = d["results"];
        // Tests run one at a time, so ours are the newest reservations of all.
        CPPUNIT_ASSERT_EQUAL(a2, static_cast<long long>(results[0]["id"].GetInt64()));
        CPPUNIT_ASSERT_EQUAL(b1, static_cast<long long>(results[1]["id"].GetInt64()));
        CPPUNIT_ASSERT_EQUAL(a1, static_cast<long long>(results[2]["id"].GetInt64()));
        for (rapidjson::SizeType i = 1; i < results.Size(); ++i)
            CPPUNIT_ASSERT(results[i - 1]["id"].GetInt64() > results[i]["id"].GetInt64());

        const std::string of_a = "?customer=" + std::to_string(a.id);
        CPPUNIT_ASSERT_EQUAL((Ids{a2, a1}), page_ids(list(http, of_a, admin_token()), 2));
        CPPUNIT_ASSERT_EQUAL(
            (Ids{b1}), page_ids(list(http, "?customer=" + std::to_string(b.id), admin_token()), 1));
        // An item looks the same to the admin as to its owner.
        const auto item = list(http, of_a, admin_token()).json();
        CPPUNIT_ASSERT_EQUAL(http.get(reservation_path(a2), a.token).body,
                             compact(item["results"][0]));
        CPPUNIT_ASSERT_EQUAL(Ids{},
                             page_ids(list(http, "?customer=999999999999", admin_token()), 0));
        // An empty ?customer= is no filter (as django-filter treats it).
        CPPUNIT_ASSERT_EQUAL(d["count"].GetInt64(),
                             list(http, "?customer=", admin_token()).json()["count"].GetInt64());
    }

    void listFiltersByStatus() {
        Http http;
        pqxx::connection db(env("SHOPD_DATABASE_URL"));
        const auto a = new_customer_with_id(http);
        const auto v = new_variants(http, {{"0.00", 50}});
        const long long active = reserve(http, a.token, v[0], 1);
        const long long cancelled = reserve(http, a.token, v[0], 1);
        const long long confirmed = reserve(http, a.token, v[0], 1);
        const long long expired = reserve(http, a.token, v[0], 1);
        CPPUNIT_ASSERT_EQUAL(200L,
                             http.post(reservation_path(cancelled, "cancel"), "", a.token).status);
        CPPUNIT_ASSERT_EQUAL(200L,
                             http.post(reservation_path(confirmed, "confirm"), "", a.token).status);
        set_status(db, expired, "EXPIRED");

        CPPUNIT_ASSERT_EQUAL((Ids{active}), page_ids(list(http, "?status=ACTIVE", a.token), 1));
        CPPUNIT_ASSERT_EQUAL((Ids{cancelled}),
                             page_ids(list(http, "?status=CANCELLED", a.token), 1));
        CPPUNIT_ASSERT_EQUAL((Ids{confirmed}),
                             page_ids(list(http, "?status=CONFIRMED", a.token), 1));
        CPPUNIT_ASSERT_EQUAL((Ids{expired}), page_ids(list(http, "?status=EXPIRED", a.token), 1));
        CPPUNIT_ASSERT_EQUAL((Ids{expired, confirmed, cancelled, active}),
                             page_ids(list(http, "?status=", a.token), 4));

        const std::string of_a = "?customer=" + std::to_string(a.id);
        CPPUNIT_ASSERT_EQUAL((Ids{cancelled}),
                             page_ids(list(http, of_a + "&status=CANCELLED", admin_token()), 1));
        const auto all_cancelled = list(http, "?status=CANCELLED&page_size=100", admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(all_cancelled.describe(), 200L, all_cancelled.status);
        const auto d = all_cancelled.json();
        CPPUNIT_ASSERT(d["count"].GetInt64() >= 1);
        CPPUNIT_ASSERT_EQUAL(cancelled, static_cast<long long>(d["results"][0]["id"].GetInt64()));
        for (const auto &item : d["results"].GetArray())
            CPPUNIT_ASSERT_EQUAL(std::string("CANCELLED"), str(item["status"]));
    }

    void listPaginates() {
        Http http;
        const auto token = new_customer(http);
        const auto v = new_variants(http, {{"0.00", 50}});
        const long long r1 = reserve(http, token, v[0], 1);
        const long long r2 = reserve(http, token, v[0], 1);
        const long long r3 = reserve(http, token, v[0], 1);

        const auto first = list(http, "?status=ACTIVE&page_size=2", token);
        CPPUNIT_ASSERT_EQUAL((Ids{r3, r2}), page_ids(first, 3));
        const auto d = first.json();
        CPPUNIT_ASSERT(d["previous"].IsNull());
        const std::string next = str(d["next"]);
        // Absolute, and keeps the filter and the page size.
        CPPUNIT_ASSERT_EQUAL_MESSAGE(next, std::size_t(0),
                                     next.find(http.base() + "/api/reservations/?"));
        CPPUNIT_ASSERT(next.find("status=ACTIVE") != std::string::npos);
        CPPUNIT_ASSERT(next.find("page_size=2") != std::string::npos);
        CPPUNIT_ASSERT(next.find("page=2") != std::string::npos);

        const auto second = http.get(next.substr(http.base().size()), token);
        CPPUNIT_ASSERT_EQUAL((Ids{r1}), page_ids(second, 3));
        CPPUNIT_ASSERT(second.json()["next"].IsNull());
        CPPUNIT_ASSERT(!second.json()["previous"].IsNull());

        assert_problem(list(http, "?page_size=2&page=3", token), 404, "page past the end");
        assert_problem(list(http, "?page=0", token), 404, "page 0");
        assert_problem(list(http, "?page=x", token), 404, "page not a number");
        assert_problem(list(http, "?page=2", new_customer(http)), 404, "page 2 of nothing");
    }

    void listBadFiltersAre400() {
        Http http;
        const auto token = new_customer(http);
        for (const std::string query : {"?status=BOGUS", "?status=active", "?status=ACTIVE%20"}) {
            for (const auto &who : {token, admin_token()}) {
                const auto r = list(http, query, who);
                assert_problem(r, 400, query.c_str());
                CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 1u, r.json()["errors"]["status"].Size());
            }
        }
        for (const std::string query : {"?customer=abc", "?customer=0", "?customer=-3",
                                        "?customer=1.5", "?customer=99999999999999999999"}) {
            const auto r = list(http, query, admin_token());
            assert_problem(r, 400, query.c_str());
            CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 1u, r.json()["errors"]["customer"].Size());
        }
        // Both mistakes are named at once.
        const auto both = list(http, "?customer=x&status=y", admin_token()).json();
        CPPUNIT_ASSERT(both["errors"].HasMember("customer"));
        CPPUNIT_ASSERT(both["errors"].HasMember("status"));
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
