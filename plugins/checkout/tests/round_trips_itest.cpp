// Round trips to PostgreSQL per add-to-cart and per checkout (issue 14), counted on the server
// by pg_stat_statements (loaded by the test cluster, scripts/lib.sh pg_init; track_utility=on,
// so BEGIN and COMMIT count), so they cannot creep back: at most 4 per add-to-cart (the price
// service's query included), 4 per checkout, 6 per checkout with an Idempotency-Key.
#include "fixtures.hpp"

#include <iostream>
#include <memory>

using namespace shopd::test;
using namespace shopd::test::co;

namespace {

/// Requests measured per case; the average must stay within the bound.
constexpr int kRequests = 10;

/// The test cluster's superuser: pg_stat_statements_reset() and CREATE EXTENSION need it.
std::string admin_url() {
    return "postgresql://shopd@127.0.0.1:" + env("SHOPD_PG_PORT") + "/shopd";
}

class RoundTripsITest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(RoundTripsITest);
    CPPUNIT_TEST(add_to_cart_takes_at_most_4);
    CPPUNIT_TEST(checkout_takes_at_most_4);
    CPPUNIT_TEST(checkout_with_key_takes_at_most_6);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override {
        admin_ = std::make_unique<pqxx::connection>(admin_url());
        pqxx::nontransaction tx(*admin_);
        const std::string preload = tx.exec1("SHOW shared_preload_libraries")[0].c_str();
        CPPUNIT_ASSERT_MESSAGE("the test cluster must preload pg_stat_statements, not: " + preload,
                               preload.find("pg_stat_statements") != std::string::npos);
        tx.exec0("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    }

    void add_to_cart_takes_at_most_4() {
        const auto token = new_customer(http_);
        const auto variant = new_variants(http_, {{"0.00", 1000}})[0];
        reset();
        for (int i = 0; i < kRequests; ++i)
            add_to_cart(http_, token, variant, 1);  // 1 new, 9 merge
        const double per = calls() / kRequests;
        std::cout << "\nround trips per add-to-cart: " << per << std::endl;
        CPPUNIT_ASSERT_MESSAGE("round trips per add-to-cart: " + std::to_string(per), per <= 4.0);
        CPPUNIT_ASSERT_EQUAL(static_cast<long long>(kRequests), cart_quantity(token));
    }

    void checkout_takes_at_most_4() { checkouts(""); }
    void checkout_with_key_takes_at_most_6() { checkouts("key-"); }

private:
    /// kRequests customers with two lines each check out (with keys when `key_prefix` is set).
    void checkouts(const std::string &key_prefix) {
        const auto variants = new_variants(http_, {{"0.00", 1000}, {"1.00", 1000}});
        std::vector<std::string> tokens;
        for (int i = 0; i < kRequests; ++i) {
            tokens.push_back(new_customer(http_));
            add_to_cart(http_, tokens.back(), variants[1], 2);
            add_to_cart(http_, tokens.back(), variants[0], 1);
        }
        reset();
        for (int i = 0; i < kRequests; ++i) {
            const auto r = checkout(http_, tokens[i],
                                    key_prefix.empty() ? "" : key_prefix + std::to_string(i));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201L, r.status);
        }
        const double per = calls() / kRequests;
        const double bound = key_prefix.empty() ? 4.0 : 6.0;
        std::cout << "\nround trips per checkout" << (key_prefix.empty() ? "" : " with a key")
                  << ": " << per << std::endl;
        CPPUNIT_ASSERT_MESSAGE("round trips per checkout" +
                                   std::string(key_prefix.empty() ? "" : " with a key") + ": " +
                                   std::to_string(per),
                               per <= bound);
        CPPUNIT_ASSERT_EQUAL(3LL * kRequests, stock_of(http_, variants[1]).reserved +
                                                  stock_of(http_, variants[0]).reserved);
        if (key_prefix.empty()) return;
        // The same keys again: replays, within the same bound.
        reset();
        for (int i = 0; i < kRequests; ++i) {
            const auto r = checkout(http_, tokens[i], key_prefix + std::to_string(i));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201L, r.status);
            CPPUNIT_ASSERT_EQUAL(std::string("true"), r.header("Idempotent-Replayed"));
        }
        const double replay = calls() / kRequests;
        std::cout << "\nround trips per replayed checkout: " << replay << std::endl;
        CPPUNIT_ASSERT_MESSAGE("round trips per replay: " + std::to_string(replay), replay <= 6.0);
    }

    void reset() {
        pqxx::nontransaction tx(*admin_);
        tx.exec1("SELECT pg_stat_statements_reset()");
    }

    /// Statements the application role ran in database shopd since reset().
    double calls() {
        pqxx::nontransaction tx(*admin_);
        return tx
            .exec1(
                "SELECT coalesce(sum(calls), 0)::float8 FROM pg_stat_statements s "
                "JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.userid "
                "WHERE d.datname = 'shopd' AND r.rolname = 'shopd_app'")[0]
            .as<double>();
    }

    long long cart_quantity(const std::string &token) {
        const auto r = http_.get("/api/cart/", token);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        return r.json()["item_count"].GetInt64();
    }

    Http http_;
    std::unique_ptr<pqxx::connection> admin_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(RoundTripsITest);

}  // namespace
