// Fixtures shared by the checkout plugin's integration tests: customers, products, carts,
// reservations through the API, and direct SQL for what the API cannot do (expiring a reservation).
#pragma once

#include "http_client.hpp"
#include "store_fixtures.hpp"

#include <cppunit/extensions/HelperMacros.h>
#include <pqxx/pqxx>

#include <string>
#include <utility>
#include <vector>

namespace shopd::test::co {

inline std::string str(const rapidjson::Value &v) { return v.GetString(); }

/// A product (base 500.00) with variants {price_delta, stock}; returns the variant ids in order.
inline std::vector<long long> new_variants(
    Http &http, const std::vector<std::pair<std::string, int>> &variants) {
    return new_product(http, variants, "co").variants;
}

/// Adds `quantity` of `variant` to the cart (a new line or merged into one).
inline void add_to_cart(Http &http, const std::string &token, long long variant, int quantity) {
    const auto r = http.post("/api/cart/items/",
                             "{\"variant_id\":" + std::to_string(variant) +
                                 ",\"quantity\":" + std::to_string(quantity) + "}",
                             token);
    CPPUNIT_ASSERT_MESSAGE(r.describe(), r.status == 201 || r.status == 200);
}

/// A fresh customer with `quantity` units of a fresh variant (`stock` in stock) in the cart: where
/// the idempotency and locking tests start.
struct OneLineCart {
    OneLineCart(Http &http, int stock, int quantity)
        : token(new_customer(http)), variant(new_variants(http, {{"0.00", stock}})[0]) {
        add_to_cart(http, token, variant, quantity);
    }
    const std::string token;
    const long long variant;
};

inline Response checkout(Http &http, const std::string &token, const std::string &key = "") {
    Headers headers;
    if (!key.empty()) headers.emplace_back("Idempotency-Key", key);
    return http.request("POST", "/api/cart/checkout/", "", token, headers);
}

/// Checks out the cart as it is, which must succeed; returns the new reservation's id.
inline long long reserve_cart(Http &http, const std::string &token) {
    const auto r = checkout(http, token);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201L, r.status);
    return r.json()["id"].GetInt64();
}

/// Adds one line and checks out; returns the new reservation's id.
inline long long reserve(Http &http, const std::string &token, long long variant, int quantity) {
    add_to_cart(http, token, variant, quantity);
    return reserve_cart(http, token);
}

struct Stock {
    long long stock = 0, reserved = 0, available = 0;
};

inline Stock stock_of(Http &http, long long variant) {
    const auto r = http.get("/api/variants/" + std::to_string(variant) + "/");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
    const auto d = r.json();
    return {d["stock"].GetInt64(), d["reserved"].GetInt64(), d["available"].GetInt64()};
}

/// Units in the customer's cart, by line count.
inline unsigned cart_lines(Http &http, const std::string &token) {
    const auto r = http.get("/api/cart/", token);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
    return r.json()["items"].Size();
}

inline std::string reservation_path(long long id, const std::string &action = "") {
    return "/api/reservations/" + std::to_string(id) + "/" + (action.empty() ? "" : action + "/");
}

/// Status of a reservation read straight from the table operators query.
inline std::string db_status(pqxx::connection &db, long long id) {
    pqxx::nontransaction tx(db);
    return tx.exec_params1("SELECT status FROM reservations WHERE id = $1", id)[0].c_str();
}

/// expiry_log rows of one reservation.
inline long long log_rows(pqxx::connection &db, long long id) {
    pqxx::nontransaction tx(db);
    return tx.exec_params1("SELECT count(*) FROM expiry_log WHERE reservation_id = $1", id)[0]
        .as<long long>();
}

/// Asserts reservation `id` was released exactly once, by `released_by` ("checkout" or
/// "reservation-release"): EXPIRED, and one expiry_log row counting `items` lines of `units` units.
inline void assert_released(pqxx::connection &db, long long id, const std::string &released_by,
                            int items, int units) {
    const std::string what = "reservation " + std::to_string(id);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what, std::string("EXPIRED"), db_status(db, id));
    pqxx::nontransaction tx(db);
    const auto rows = tx.exec_params(
        "SELECT released_by, item_count, unit_count FROM expiry_log WHERE reservation_id = $1", id);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what, 1LL, static_cast<long long>(rows.size()));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what, released_by, std::string(rows[0][0].c_str()));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what, items, rows[0][1].as<int>());
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what, units, rows[0][2].as<int>());
}

/// Moves reservations' expiry into the past, as if their TTL had run out.
inline void expire(pqxx::connection &db, const std::vector<long long> &ids) {
    std::string array = "{";
    for (std::size_t i = 0; i < ids.size(); ++i) array += (i ? "," : "") + std::to_string(ids[i]);
    pqxx::work tx(db);
    tx.exec_params(
        "UPDATE reservations SET expires_at = now() - interval '1 minute' WHERE id = ANY($1::bigint[])",
        array + "}");
    tx.commit();
}

/// A fresh customer's reservations of one fresh variant (`stock` in stock), one per quantity in
/// `quantities`, all moved past their expiry once every one is made (so no checkout of them
/// releases an earlier one).
struct ExpiredReservations {
    ExpiredReservations(Http &http, pqxx::connection &db, int stock,
                        const std::vector<int> &quantities)
        : token(new_customer(http)), variant(new_variants(http, {{"0.00", stock}})[0]) {
        for (const int quantity : quantities)
            ids.push_back(reserve(http, token, variant, quantity));
        expire(db, ids);
    }
    const std::string token;
    const long long variant;
    std::vector<long long> ids;
};

}  // namespace shopd::test::co
