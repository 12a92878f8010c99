// Integration tests of the cart plugin through nginx + shopd + PostgreSQL, with the real
// catalog and pricing plugins: ownership, validation, merging, price snapshots, concurrency.
#include "http_client.hpp"
#include "store_fixtures.hpp"

#include <cppunit/extensions/HelperMacros.h>
#include <pqxx/pqxx>

#include <thread>
#include <vector>

using namespace shopd::test;

namespace {

std::string str(const rapidjson::Value &v) { return v.GetString(); }

std::string add_body(long long variant, int quantity) {
    return "{\"variant_id\":" + std::to_string(variant) +
           ",\"quantity\":" + std::to_string(quantity) + "}";
}

}  // namespace

class CartITest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CartITest);
    CPPUNIT_TEST(needsCustomerToken);
    CPPUNIT_TEST(emptyCart);
    CPPUNIT_TEST(addSnapshotsPriceAtTierAndQuantity);
    CPPUNIT_TEST(addingSameVariantMergesAndResnapshots);
    CPPUNIT_TEST(snapshotsSurviveRuleChanges);
    CPPUNIT_TEST(patchResnapshotsAtNewQuantity);
    CPPUNIT_TEST(deleteRemovesLine);
    CPPUNIT_TEST(productIdNeedsSingleVariant);
    CPPUNIT_TEST(invalidInputIs400AndWritesNothing);
    CPPUNIT_TEST(otherCustomersItemIs404);
    CPPUNIT_TEST(concurrentAddsMergeIntoOneLine);
    CPPUNIT_TEST(priceServiceConflictPassesThrough);
    CPPUNIT_TEST(customerRuleInLineSnapshot);
    CPPUNIT_TEST_SUITE_END();

public:
    void needsCustomerToken() {
        Http http;
        assert_problem(http.get("/api/cart/"), 401, "no token");
        assert_problem(http.get("/api/cart/", "not-a-token"), 401, "bad token");
        assert_problem(http.post("/api/cart/items/", add_body(1, 1)), 401, "add without token");
        assert_problem(http.del("/api/cart/items/1/", "nope"), 401, "delete with bad token");
    }

    void emptyCart() {
        Http http;
        const auto r = http.get("/api/cart/", new_customer(http, "STANDARD"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        const auto d = r.json();
        CPPUNIT_ASSERT(d["id"].IsInt64());
        CPPUNIT_ASSERT_EQUAL(0u, d["items"].Size());
        CPPUNIT_ASSERT_EQUAL(0, d["item_count"].GetInt());
        CPPUNIT_ASSERT_EQUAL(std::string("0.00"), str(d["total"]));
    }

    void addSnapshotsPriceAtTierAndQuantity() {
        Http http;
        const auto token = new_customer(http, "GOLD");
        const auto p = new_product(http, {{"50.00", 100}}, "cart");
        const auto r = http.post("/api/cart/items/", add_body(p.variants[0], 10), token);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201L, r.status);
        const auto d = r.json();
        CPPUNIT_ASSERT_EQUAL(std::string("420.75"),
                             str(d["unit_price"]));  // the contract's seed example
        CPPUNIT_ASSERT_EQUAL(std::string("4207.50"), str(d["line_total"]));
        CPPUNIT_ASSERT_EQUAL(p.id, static_cast<long long>(d["product_id"].GetInt64()));
        CPPUNIT_ASSERT_EQUAL(10, d["quantity"].GetInt());
        const auto cart = http.get("/api/cart/", token).json();
        CPPUNIT_ASSERT_EQUAL(std::string("4207.50"), str(cart["total"]));
        CPPUNIT_ASSERT_EQUAL(10, cart["item_count"].GetInt());
    }

    void addingSameVariantMergesAndResnapshots() {
        Http http;
        const auto token = new_customer(http, "GOLD");
        const auto p = new_product(http, {{"50.00", 100}}, "cart");
        auto r = http.post("/api/cart/items/", add_body(p.variants[0], 4), token);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201L, r.status);
        CPPUNIT_ASSERT_EQUAL(std::string("467.50"),
                             str(r.json()["unit_price"]));  // 550.00 - 15% (no qty rule)
        r = http.post("/api/cart/items/", add_body(p.variants[0], 6), token);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        const auto d = r.json();
        CPPUNIT_ASSERT_EQUAL(10, d["quantity"].GetInt());
        CPPUNIT_ASSERT_EQUAL(std::string("420.75"),
                             str(d["unit_price"]));  // 10 units: the qty rule applies now
        const auto cart = http.get("/api/cart/", token).json();
        CPPUNIT_ASSERT_EQUAL(1u, cart["items"].Size());
    }

    void snapshotsSurviveRuleChanges() {
        Http http;
        const auto token = new_customer(http, "STANDARD");
        const auto p = new_product(http, {{"50.00", 100}, {"0.00", 100}}, "cart");
        CPPUNIT_ASSERT_EQUAL(
            201L, http.post("/api/cart/items/", add_body(p.variants[0], 3), token).status);
        CPPUNIT_ASSERT_EQUAL(
            201L, http.post("/api/cart/items/", add_body(p.variants[1], 2), token).status);
        const auto before = http.get("/api/cart/", token).json();
        CPPUNIT_ASSERT_EQUAL(std::string("550.00"), str(before["items"][0]["unit_price"]));
        CPPUNIT_ASSERT_EQUAL(std::string("500.00"), str(before["items"][1]["unit_price"]));
        // A new STANDARD-tier rule: new prices change, the cart's snapshots do not.
        const auto rule = http.post(
            "/api/pricing/rules/",
            "{\"kind\":\"TIER\",\"tier\":\"STANDARD\",\"percent_off\":\"50\"}", admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(rule.describe(), 201L, rule.status);
        const auto rule_id = std::to_string(rule.json()["id"].GetInt64());
        const auto quote = http.get("/api/pricing/" + std::to_string(p.id) +
                                    "/price/?variant_id=" + std::to_string(p.variants[1]));
        const auto after = http.get("/api/cart/", token).json();
        CPPUNIT_ASSERT_EQUAL(204L,
                             http.del("/api/pricing/rules/" + rule_id + "/", admin_token()).status);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(quote.describe(), std::string("250.00"),
                                     str(quote.json()["unit_price"]));
        CPPUNIT_ASSERT_EQUAL(std::string("550.00"), str(after["items"][0]["unit_price"]));
        CPPUNIT_ASSERT_EQUAL(std::string("500.00"), str(after["items"][1]["unit_price"]));
        CPPUNIT_ASSERT_EQUAL(std::string("2650.00"), str(after["total"]));
    }

    void patchResnapshotsAtNewQuantity() {
        Http http;
        const auto token = new_customer(http, "GOLD");
        const auto p = new_product(http, {{"50.00", 20}}, "cart");
        const auto id =
            std::to_string(http.post("/api/cart/items/", add_body(p.variants[0], 10), token)
                               .json()["id"]
                               .GetInt64());
        auto r = http.patch("/api/cart/items/" + id + "/", "{\"quantity\":2}", token);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        CPPUNIT_ASSERT_EQUAL(std::string("467.50"), str(r.json()["unit_price"]));
        CPPUNIT_ASSERT_EQUAL(std::string("935.00"), str(r.json()["line_total"]));
        assert_problem(http.patch("/api/cart/items/" + id + "/", "{\"quantity\":21}", token), 400,
                       "above stock");
        assert_problem(http.patch("/api/cart/items/" + id + "/", "{\"quantity\":0}", token), 400,
                       "zero");
        CPPUNIT_ASSERT_EQUAL(2,
                             http.get("/api/cart/", token).json()["items"][0]["quantity"].GetInt());
    }

    void deleteRemovesLine() {
        Http http;
        const auto token = new_customer(http, "SILVER");
        const auto p = new_product(http, {{"0.00", 5}}, "cart");
        const auto id =
            std::to_string(http.post("/api/cart/items/", add_body(p.variants[0], 1), token)
                               .json()["id"]
                               .GetInt64());
        CPPUNIT_ASSERT_EQUAL(204L, http.del("/api/cart/items/" + id + "/", token).status);
        CPPUNIT_ASSERT_EQUAL(0u, http.get("/api/cart/", token).json()["items"].Size());
        assert_problem(http.del("/api/cart/items/" + id + "/", token), 404, "already deleted");
    }

    void productIdNeedsSingleVariant() {
        Http http;
        const auto token = new_customer(http, "STANDARD");
        const auto single = new_product(http, {{"1.00", 5}}, "cart");
        auto r =
            http.post("/api/cart/items/",
                      "{\"product_id\":" + std::to_string(single.id) + ",\"quantity\":1}", token);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201L, r.status);
        CPPUNIT_ASSERT_EQUAL(single.variants[0],
                             static_cast<long long>(r.json()["variant_id"].GetInt64()));
        const auto multi = new_product(http, {{"1.00", 5}, {"2.00", 5}}, "cart");
        assert_problem(
            http.post("/api/cart/items/",
                      "{\"product_id\":" + std::to_string(multi.id) + ",\"quantity\":1}", token),
            400, "product with two variants");
    }

    void invalidInputIs400AndWritesNothing() {
        Http http;
        const auto token = new_customer(http, "STANDARD");
        const auto p = new_product(http, {{"0.00", 3}}, "cart");
        assert_problem(http.post("/api/cart/items/", add_body(p.variants[0], 4), token), 400,
                       "above available");
        assert_problem(http.post("/api/cart/items/", add_body(999999999999LL, 1), token), 400,
                       "unknown variant");
        assert_problem(
            http.post("/api/cart/items/", "{\"variant_id\":1,\"quantity\":\"x\"}", token), 400,
            "bad quantity");
        assert_problem(http.post("/api/cart/items/", "{oops", token), 400, "malformed JSON");
        assert_problem(
            http.post("/api/cart/items/", "v=1", token, {{"Content-Type", "text/plain"}}), 415,
            "not JSON");
        CPPUNIT_ASSERT_EQUAL(0u, http.get("/api/cart/", token).json()["items"].Size());
    }

    void otherCustomersItemIs404() {
        Http http;
        const auto owner = new_customer(http, "STANDARD");
        const auto other = new_customer(http, "STANDARD");
        const auto p = new_product(http, {{"0.00", 5}}, "cart");
        const auto id =
            std::to_string(http.post("/api/cart/items/", add_body(p.variants[0], 1), owner)
                               .json()["id"]
                               .GetInt64());
        assert_problem(http.patch("/api/cart/items/" + id + "/", "{\"quantity\":2}", other), 404,
                       "patch other's item");
        assert_problem(http.del("/api/cart/items/" + id + "/", other), 404, "delete other's item");
        CPPUNIT_ASSERT_EQUAL(1,
                             http.get("/api/cart/", owner).json()["items"][0]["quantity"].GetInt());
    }

    void concurrentAddsMergeIntoOneLine() {
        Http setup;
        const auto token = new_customer(setup, "STANDARD");
        const auto p = new_product(setup, {{"0.00", 100}}, "cart");
        std::vector<std::thread> threads;
        std::vector<long> statuses(8, 0);
        for (int i = 0; i < 8; ++i)
            threads.emplace_back([&, i] {
                Http http;
                statuses[i] =
                    http.post("/api/cart/items/", add_body(p.variants[0], 1), token).status;
            });
        for (auto &t : threads) t.join();
        int created = 0;
        for (long s : statuses) {
            CPPUNIT_ASSERT(s == 200 || s == 201);
            created += s == 201;
        }
        CPPUNIT_ASSERT_EQUAL(1, created);
        const auto cart = setup.get("/api/cart/", token).json();
        CPPUNIT_ASSERT_EQUAL(1u, cart["items"].Size());
        CPPUNIT_ASSERT_EQUAL(8, cart["items"][0]["quantity"].GetInt());
    }

    void priceServiceConflictPassesThrough() {
        Http http;
        const auto token = new_customer(http, "STANDARD");
        const auto p = new_product(http, {{"0.00", 5}}, "cart");
        // While pricing_rules is held exclusively, the price service's read waits past the lock
        // timeout and answers 409 + Retry-After: the client must get that 409 (retry), not a 400.
        pqxx::connection db(env("SHOPD_DATABASE_URL"));
        pqxx::work lock(db);
        lock.exec("LOCK TABLE pricing_rules IN ACCESS EXCLUSIVE MODE");
        const auto r = http.post("/api/cart/items/", add_body(p.variants[0], 1), token);
        lock.abort();
        assert_problem(r, 409, "price service timed out on a lock");
        CPPUNIT_ASSERT_MESSAGE(r.describe(), !r.header("Retry-After").empty());
        CPPUNIT_ASSERT_EQUAL(0u, http.get("/api/cart/", token).json()["items"].Size());
    }

    void customerRuleInLineSnapshot() {
        Http http;
        const auto [customer_id, token] = new_customer_with_id(http, "GOLD");
        const auto other = new_customer(http, "GOLD");
        const auto p = new_product(http, {{"50.00", 100}}, "cart");
        // The customer's own rule (5 %), deleted again whatever happens: other tests see only the
        // default rules.
        const auto rule =
            http.post("/api/pricing/rules/",
                      "{\"kind\":\"CUSTOMER\",\"customer_id\":" + std::to_string(customer_id) +
                          ",\"percent_off\":\"5\"}",
                      admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(rule.describe(), 201L, rule.status);
        const auto rule_path =
            "/api/pricing/rules/" + std::to_string(rule.json()["id"].GetInt64()) + "/";
        struct Cleanup {
            std::string path;
            ~Cleanup() {
                try {
                    Http h;
                    h.del(path, admin_token());
                } catch (...) {}
            }
        } cleanup{rule_path};
        // The seed example, then the customer's step: 420.75 - 5 % = 399.7125 -> 399.71.
        auto r = http.post("/api/cart/items/", add_body(p.variants[0], 10), token);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201L, r.status);
        CPPUNIT_ASSERT_EQUAL(std::string("399.71"), str(r.json()["unit_price"]));
        CPPUNIT_ASSERT_EQUAL(std::string("3997.10"), str(r.json()["line_total"]));
        // Another customer of the same tier: the seed example, exact.
        r = http.post("/api/cart/items/", add_body(p.variants[0], 10), other);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201L, r.status);
        CPPUNIT_ASSERT_EQUAL(std::string("420.75"), str(r.json()["unit_price"]));
        // A PATCH re-snapshots with the rule too: 467.50 - 5 % = 444.125 -> 444.13.
        const auto id =
            std::to_string(http.get("/api/cart/", token).json()["items"][0]["id"].GetInt64());
        r = http.patch("/api/cart/items/" + id + "/", "{\"quantity\":2}", token);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        CPPUNIT_ASSERT_EQUAL(std::string("444.13"), str(r.json()["unit_price"]));
        // Once the rule is gone, the snapshot stays; a new snapshot is the seed price again.
        CPPUNIT_ASSERT_EQUAL(204L, http.del(rule_path, admin_token()).status);
        CPPUNIT_ASSERT_EQUAL(std::string("444.13"),
                             str(http.get("/api/cart/", token).json()["items"][0]["unit_price"]));
        r = http.patch("/api/cart/items/" + id + "/", "{\"quantity\":10}", token);
        CPPUNIT_ASSERT_EQUAL(std::string("420.75"), str(r.json()["unit_price"]));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CartITest);
