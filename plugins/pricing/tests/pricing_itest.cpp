// Integration tests of the pricing routes through nginx + shopd + PostgreSQL. Products come
// from the catalog API; rules the tests create are deleted again, so the default rules (10+ ->
// 10 %, GOLD -> 15 %) are what later tests see. The database is shared: nothing assumes empty
// tables.
#include "http_client.hpp"

#include <cppunit/extensions/HelperMacros.h>
#include <pqxx/pqxx>

#include <unistd.h>

#include <string>
#include <vector>

using namespace shopd::test;

namespace {

std::string str(const rapidjson::Value &v) {
    return std::string(v.GetString(), v.GetStringLength());
}
std::string quoted(const std::string &s) { return "\"" + s + "\""; }

long long rule_count() {
    pqxx::connection c(env("SHOPD_DATABASE_URL"));
    pqxx::read_transaction tx(c);
    return tx.exec1("SELECT count(*) FROM pricing_rules")[0].as<long long>();
}

/// Id of the rule of that shape, or 0.
long long rule_id(const std::string &where) {
    pqxx::connection c(env("SHOPD_DATABASE_URL"));
    pqxx::read_transaction tx(c);
    const auto rows = tx.exec("SELECT id FROM pricing_rules WHERE " + where);
    return rows.empty() ? 0 : rows[0][0].as<long long>();
}

/// Asserts a 400 validation problem whose "errors" names `field`.
void assert_field_error(const Response &r, const std::string &field, const std::string &what) {
    assert_problem(r, 400, what.c_str());
    const auto d = r.json();
    CPPUNIT_ASSERT_MESSAGE(
        what + ": no errors." + field + " in " + r.describe(),
        d.HasMember("errors") && d["errors"].IsObject() && d["errors"].HasMember(field.c_str()) &&
            d["errors"][field.c_str()].IsArray() && d["errors"][field.c_str()].Size() > 0);
}

/// A product created through the catalog API (admin), with one variant.
struct Product {
    long long id = 0;
    long long variant_id = 0;
};

long long create_category(Http &http) {
    const auto r = http.post("/api/categories/", "{\"name\":" + quoted(unique("pricing-cat")) + "}",
                             admin_token());
    CPPUNIT_ASSERT_EQUAL_MESSAGE("create category: " + r.describe(), 201L, r.status);
    return r.json()["id"].GetInt64();
}

Product create_product(Http &http, long long category, const std::string &base,
                       const std::string &delta) {
    const std::string body = "{\"name\":" + quoted(unique("pricing-product")) +
                             ",\"category_id\":" + std::to_string(category) +
                             ",\"base_price\":" + quoted(base) +
                             ",\"variants\":[{\"sku\":" + quoted(unique("PR-SKU")) +
                             ",\"name\":\"v\",\"price_delta\":" + quoted(delta) + ",\"stock\":5}]}";
    const auto r = http.post("/api/products/", body, admin_token());
    CPPUNIT_ASSERT_EQUAL_MESSAGE("create product: " + r.describe(), 201L, r.status);
    const auto d = r.json();
    return Product{d["id"].GetInt64(), d["variants"][0]["id"].GetInt64()};
}

/// The seed example's product (base 500.00, variant +50.00) and a second one, made once.
struct Fixture {
    long long category = 0;
    Product seed, other;
};

const Fixture &fixture() {
    static Fixture f = [] {
        Http http;
        Fixture out;
        out.category = create_category(http);
        out.seed = create_product(http, out.category, "500.00", "50.00");
        out.other = create_product(http, out.category, "20.00", "-5.00");
        return out;
    }();
    return f;
}

std::string price_path(long long product, const std::string &query = "") {
    return "/api/pricing/" + std::to_string(product) + "/price/" +
           (query.empty() ? "" : "?" + query);
}

/// Deletes the rule with this id when it goes out of scope, so a failed assertion leaves no rule.
struct RuleGuard {
    long long id = 0;
    ~RuleGuard() {
        if (id == 0) return;
        try {
            Http http;
            http.del("/api/pricing/rules/" + std::to_string(id) + "/", admin_token());
        } catch (...) {}
    }
};

}  // namespace

class PricingITest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PricingITest);
    CPPUNIT_TEST(seedExample);
    CPPUNIT_TEST(defaultsWithoutParameters);
    CPPUNIT_TEST(quantityRuleFromItsMinimum);
    CPPUNIT_TEST(roundsHalfUpThroughTheDatabase);
    CPPUNIT_TEST(maxPriceAndQuantity);
    CPPUNIT_TEST(invalidQuantityIs400);
    CPPUNIT_TEST(invalidTierIs400);
    CPPUNIT_TEST(unknownProductIs404);
    CPPUNIT_TEST(variantOfAnotherProductIs400);
    CPPUNIT_TEST(unknownOrMalformedVariantIs400);
    CPPUNIT_TEST(listsRulesPaginated);
    CPPUNIT_TEST(createsUsesAndDeletesQuantityRule);
    CPPUNIT_TEST(createsUsesAndDeletesTierRule);
    CPPUNIT_TEST(duplicateRuleIs400);
    CPPUNIT_TEST(invalidRulesAre400AndWriteNothing);
    CPPUNIT_TEST(ruleWritesNeedAdmin);
    CPPUNIT_TEST(nonJsonRuleBodyIs415);
    CPPUNIT_TEST(deleteUnknownRuleIs404);
    CPPUNIT_TEST(wrongMethodsAre405);
    CPPUNIT_TEST_SUITE_END();

public:
    void seedExample() {
        const auto &f = fixture();
        Http http;
        const auto r = http.get(price_path(f.seed.id, "quantity=10&user_tier=GOLD&variant_id=" +
                                                          std::to_string(f.seed.variant_id)));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        CPPUNIT_ASSERT_EQUAL(std::string("application/json; charset=utf-8"),
                             r.header("Content-Type"));
        const auto d = r.json();
        CPPUNIT_ASSERT_EQUAL(f.seed.id, static_cast<long long>(d["product_id"].GetInt64()));
        CPPUNIT_ASSERT_EQUAL(f.seed.variant_id, static_cast<long long>(d["variant_id"].GetInt64()));
        CPPUNIT_ASSERT_EQUAL(10, d["quantity"].GetInt());
        CPPUNIT_ASSERT_EQUAL(std::string("GOLD"), str(d["user_tier"]));
        CPPUNIT_ASSERT_EQUAL(std::string("500.00"), str(d["base_price"]));
        CPPUNIT_ASSERT_EQUAL(std::string("50.00"), str(d["variant_adjustment"]));
        CPPUNIT_ASSERT_EQUAL(std::string("420.75"), str(d["unit_price"]));
        CPPUNIT_ASSERT_EQUAL(std::string("4207.50"), str(d["total"]));
        CPPUNIT_ASSERT_EQUAL(std::string("pricing/1.0.0"), str(d["engine"]));
        const auto &applied = d["applied_rules"];
        CPPUNIT_ASSERT_EQUAL(2u, applied.Size());
        CPPUNIT_ASSERT_EQUAL(std::string("QUANTITY"), str(applied[0]["kind"]));
        CPPUNIT_ASSERT_EQUAL(std::string("10"), str(applied[0]["percent_off"]));
        CPPUNIT_ASSERT_EQUAL(rule_id("kind = 'QUANTITY' AND min_quantity = 10"),
                             static_cast<long long>(applied[0]["id"].GetInt64()));
        CPPUNIT_ASSERT_EQUAL(std::string("TIER"), str(applied[1]["kind"]));
        CPPUNIT_ASSERT_EQUAL(std::string("15"), str(applied[1]["percent_off"]));
        CPPUNIT_ASSERT_EQUAL(rule_id("kind = 'TIER' AND tier = 'GOLD'"),
                             static_cast<long long>(applied[1]["id"].GetInt64()));
        // The same path without the trailing slash is served the same way.
        const auto again = http.get(
            "/api/pricing/" + std::to_string(f.seed.id) +
            "/price?quantity=10&user_tier=GOLD&variant_id=" + std::to_string(f.seed.variant_id));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(again.describe(), r.body, again.body);
    }

    void defaultsWithoutParameters() {
        const auto &f = fixture();
        Http http;
        const auto r = http.get(price_path(f.seed.id));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        const auto d = r.json();
        CPPUNIT_ASSERT(d["variant_id"].IsNull());
        CPPUNIT_ASSERT_EQUAL(1, d["quantity"].GetInt());
        CPPUNIT_ASSERT_EQUAL(std::string("STANDARD"), str(d["user_tier"]));
        CPPUNIT_ASSERT_EQUAL(std::string("0.00"), str(d["variant_adjustment"]));
        CPPUNIT_ASSERT_EQUAL(std::string("500.00"), str(d["unit_price"]));
        CPPUNIT_ASSERT_EQUAL(std::string("500.00"), str(d["total"]));
        CPPUNIT_ASSERT_EQUAL(0u, d["applied_rules"].Size());
        // A negative variant delta lowers the price.
        const auto o = http.get(price_path(f.other.id, "quantity=2&variant_id=" +
                                                           std::to_string(f.other.variant_id)))
                           .json();
        CPPUNIT_ASSERT_EQUAL(std::string("-5.00"), str(o["variant_adjustment"]));
        CPPUNIT_ASSERT_EQUAL(std::string("15.00"), str(o["unit_price"]));
        CPPUNIT_ASSERT_EQUAL(std::string("30.00"), str(o["total"]));
    }

    void quantityRuleFromItsMinimum() {
        const auto &f = fixture();
        Http http;
        const auto v = "&variant_id=" + std::to_string(f.seed.variant_id);
        auto at9 = http.get(price_path(f.seed.id, "quantity=9" + v)).json();
        CPPUNIT_ASSERT_EQUAL(std::string("550.00"), str(at9["unit_price"]));
        CPPUNIT_ASSERT_EQUAL(std::string("4950.00"), str(at9["total"]));
        auto at10 = http.get(price_path(f.seed.id, "quantity=10" + v)).json();
        CPPUNIT_ASSERT_EQUAL(std::string("495.00"), str(at10["unit_price"]));
        auto silver = http.get(price_path(f.seed.id, "quantity=10&user_tier=SILVER" + v)).json();
        CPPUNIT_ASSERT_EQUAL(std::string("495.00"),
                             str(silver["unit_price"]));  // no SILVER rule by default
    }

    void roundsHalfUpThroughTheDatabase() {
        Http http;
        // 0.05 at 10 % off = 0.045 -> 0.05; then GOLD 15 % = 0.0425 -> 0.04.
        const auto p = create_product(http, fixture().category, "0.05", "0.00");
        auto d =
            http.get(price_path(p.id, "quantity=10&variant_id=" + std::to_string(p.variant_id)))
                .json();
        CPPUNIT_ASSERT_EQUAL(std::string("0.05"), str(d["unit_price"]));
        CPPUNIT_ASSERT_EQUAL(std::string("0.50"), str(d["total"]));
        d = http.get(price_path(p.id, "quantity=10&user_tier=GOLD")).json();
        CPPUNIT_ASSERT_EQUAL(std::string("0.04"), str(d["unit_price"]));
    }

    void maxPriceAndQuantity() {
        Http http;
        const auto p = create_product(http, fixture().category, "9999999999.99", "0.00");
        const auto r = http.get(price_path(
            p.id, "quantity=10000&user_tier=GOLD&variant_id=" + std::to_string(p.variant_id)));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        const auto d = r.json();
        // 9999999999.99 -10 % = 8999999999.991 -> 8999999999.99; -15 % = 7649999999.9915 ->
        // 7649999999.99
        CPPUNIT_ASSERT_EQUAL(std::string("7649999999.99"), str(d["unit_price"]));
        CPPUNIT_ASSERT_EQUAL(std::string("76499999999900.00"), str(d["total"]));
    }

    void invalidQuantityIs400() {
        const auto &f = fixture();
        Http http;
        for (const char *bad : {"0", "-1", "10001", "abc", "1.5", "", "99999999999999999999999"}) {
            const auto r = http.get(price_path(f.seed.id, std::string("quantity=") + bad));
            assert_field_error(r, "quantity", std::string("quantity=") + bad);
        }
        // Parameters are checked before the product is looked up.
        assert_field_error(http.get(price_path(999999999999, "quantity=0")), "quantity",
                           "bad quantity, unknown product");
    }

    void invalidTierIs400() {
        const auto &f = fixture();
        Http http;
        for (const char *bad : {"gold", "DIAMOND", ""})
            assert_field_error(http.get(price_path(f.seed.id, std::string("user_tier=") + bad)),
                               "user_tier", std::string("user_tier=") + bad);
        for (const char *tier : {"STANDARD", "SILVER", "GOLD", "PLATINUM"}) {
            const auto r = http.get(price_path(f.seed.id, std::string("user_tier=") + tier));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        }
    }

    void unknownProductIs404() {
        Http http;
        assert_problem(http.get(price_path(999999999999)), 404, "unknown product");
        assert_problem(http.get("/api/pricing/99999999999999999999/price/"), 404,
                       "id beyond int64");
        assert_problem(http.get("/api/pricing/abc/price/"), 404, "non-numeric id");
        // An unknown product is 404 even with a valid variant of another product.
        assert_problem(
            http.get(price_path(999999999999,
                                "variant_id=" + std::to_string(fixture().seed.variant_id))),
            404, "unknown product, existing variant");
    }

    void variantOfAnotherProductIs400() {
        const auto &f = fixture();
        Http http;
        assert_field_error(
            http.get(price_path(f.seed.id, "variant_id=" + std::to_string(f.other.variant_id))),
            "variant_id", "variant of another product");
    }

    void unknownOrMalformedVariantIs400() {
        const auto &f = fixture();
        Http http;
        for (const std::string bad : {"999999999999", "0", "-1", "abc", "", "1.5"})
            assert_field_error(http.get(price_path(f.seed.id, "variant_id=" + bad)), "variant_id",
                               "variant_id=" + bad);
    }

    void listsRulesPaginated() {
        Http http;
        const auto r = http.get("/api/pricing/rules/");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        const auto d = r.json();
        CPPUNIT_ASSERT_EQUAL(rule_count(), static_cast<long long>(d["count"].GetInt64()));
        CPPUNIT_ASSERT(d["previous"].IsNull());
        bool saw_quantity = false, saw_gold = false;
        for (const auto &rule : d["results"].GetArray()) {
            CPPUNIT_ASSERT(rule.HasMember("id") && rule.HasMember("min_quantity") &&
                           rule.HasMember("tier"));
            if (str(rule["kind"]) == "QUANTITY" && rule["min_quantity"].GetInt() == 10) {
                saw_quantity = true;
                CPPUNIT_ASSERT(rule["tier"].IsNull());
                CPPUNIT_ASSERT_EQUAL(std::string("10"), str(rule["percent_off"]));
            }
            if (str(rule["kind"]) == "TIER" && str(rule["tier"]) == "GOLD") {
                saw_gold = true;
                CPPUNIT_ASSERT(rule["min_quantity"].IsNull());
                CPPUNIT_ASSERT_EQUAL(std::string("15"), str(rule["percent_off"]));
            }
        }
        CPPUNIT_ASSERT(saw_quantity && saw_gold);

        // Page through with page_size=1: next links, previous links, page past the end is 404.
        const auto first = http.get("/api/pricing/rules/?page_size=1").json();
        CPPUNIT_ASSERT_EQUAL(1u, first["results"].Size());
        CPPUNIT_ASSERT(first["next"].IsString());
        CPPUNIT_ASSERT(str(first["next"]).find("/api/pricing/rules/?page_size=1&page=2") !=
                       std::string::npos);
        const auto second = http.get(str(first["next"])).json();
        CPPUNIT_ASSERT(second["previous"].IsString());
        CPPUNIT_ASSERT(first["results"][0]["id"].GetInt64() <
                       second["results"][0]["id"].GetInt64());
        assert_problem(http.get("/api/pricing/rules/?page=1000"), 404, "page past the end");
        assert_problem(http.get("/api/pricing/rules/?page=0"), 404, "page 0");
    }

    void createsUsesAndDeletesQuantityRule() {
        const auto &f = fixture();
        Http http;
        // A minimum no other test uses, so the unique index cannot collide.
        const int min = 7000 + static_cast<int>(getpid() % 2000);
        const auto r = http.post("/api/pricing/rules/",
                                 "{\"kind\":\"QUANTITY\",\"min_quantity\":" + std::to_string(min) +
                                     ",\"percent_off\":\"12.5\"}",
                                 admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201L, r.status);
        const auto d = r.json();
        RuleGuard guard{d["id"].GetInt64()};
        CPPUNIT_ASSERT_EQUAL(std::string("QUANTITY"), str(d["kind"]));
        CPPUNIT_ASSERT_EQUAL(min, d["min_quantity"].GetInt());
        CPPUNIT_ASSERT(d["tier"].IsNull());
        CPPUNIT_ASSERT_EQUAL(std::string("12.5"), str(d["percent_off"]));

        // The highest minimum <= quantity applies: min-1 still gets the 10+ rule.
        const auto v = "&variant_id=" + std::to_string(f.seed.variant_id);
        auto below =
            http.get(price_path(f.seed.id, "quantity=" + std::to_string(min - 1) + v)).json();
        CPPUNIT_ASSERT_EQUAL(std::string("495.00"), str(below["unit_price"]));
        auto at = http.get(price_path(f.seed.id, "quantity=" + std::to_string(min) + v)).json();
        CPPUNIT_ASSERT_EQUAL(std::string("481.25"), str(at["unit_price"]));  // 550.00 - 12.5 %
        CPPUNIT_ASSERT_EQUAL(guard.id,
                             static_cast<long long>(at["applied_rules"][0]["id"].GetInt64()));

        const auto del =
            http.del("/api/pricing/rules/" + std::to_string(guard.id) + "/", admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(del.describe(), 204L, del.status);
        CPPUNIT_ASSERT(del.body.empty());
        assert_problem(
            http.del("/api/pricing/rules/" + std::to_string(guard.id) + "/", admin_token()), 404,
            "deleted twice");
        guard.id = 0;
        at = http.get(price_path(f.seed.id, "quantity=" + std::to_string(min) + v)).json();
        CPPUNIT_ASSERT_EQUAL(std::string("495.00"), str(at["unit_price"]));
    }

    void createsUsesAndDeletesTierRule() {
        const auto &f = fixture();
        Http http;
        std::string tier;
        for (const char *t : {"PLATINUM", "SILVER", "STANDARD"})
            if (tier.empty() && rule_id("kind = 'TIER' AND tier = '" + std::string(t) + "'") == 0)
                tier = t;
        CPPUNIT_ASSERT_MESSAGE("every tier already has a rule", !tier.empty());
        const auto r = http.post("/api/pricing/rules/",
                                 "{\"kind\":\"TIER\",\"tier\":\"" + tier + "\",\"percent_off\":20}",
                                 admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201L, r.status);
        const auto d = r.json();
        RuleGuard guard{d["id"].GetInt64()};
        CPPUNIT_ASSERT_EQUAL(std::string("TIER"), str(d["kind"]));
        CPPUNIT_ASSERT_EQUAL(tier, str(d["tier"]));
        CPPUNIT_ASSERT(d["min_quantity"].IsNull());
        CPPUNIT_ASSERT_EQUAL(std::string("20"), str(d["percent_off"]));

        const auto price =
            http.get(price_path(f.seed.id, "quantity=10&user_tier=" + tier +
                                               "&variant_id=" + std::to_string(f.seed.variant_id)))
                .json();
        CPPUNIT_ASSERT_EQUAL(std::string("396.00"), str(price["unit_price"]));  // 550 -10 % -20 %
        CPPUNIT_ASSERT_EQUAL(2u, price["applied_rules"].Size());
        CPPUNIT_ASSERT_EQUAL(guard.id,
                             static_cast<long long>(price["applied_rules"][1]["id"].GetInt64()));
        const auto del = http.del("/api/pricing/rules/" + std::to_string(guard.id), admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(del.describe(), 204L, del.status);
        guard.id = 0;
    }

    void duplicateRuleIs400() {
        Http http;
        const auto before = rule_count();
        assert_field_error(
            http.post("/api/pricing/rules/",
                      R"({"kind":"QUANTITY","min_quantity":10,"percent_off":"5"})", admin_token()),
            "min_quantity", "duplicate quantity rule");
        assert_field_error(
            http.post("/api/pricing/rules/", R"({"kind":"TIER","tier":"GOLD","percent_off":"5"})",
                      admin_token()),
            "tier", "duplicate tier rule");
        CPPUNIT_ASSERT_EQUAL(before, rule_count());
    }

    void invalidRulesAre400AndWriteNothing() {
        Http http;
        const auto before = rule_count();
        const std::vector<std::pair<std::string, std::string>> cases = {
            {R"({"kind":"TIER","tier":"SILVER","percent_off":"101"})", "percent_off"},
            {R"({"kind":"TIER","tier":"SILVER","percent_off":"12.345"})", "percent_off"},
            {R"({"kind":"TIER","tier":"SILVER","percent_off":"-1"})", "percent_off"},
            {R"({"kind":"TIER","tier":"SILVER"})", "percent_off"},
            {R"({"tier":"SILVER","percent_off":"5"})", "kind"},
            {R"({"kind":"BULK","percent_off":"5"})", "kind"},
            {R"({"kind":"QUANTITY","min_quantity":10,"tier":"GOLD","percent_off":"5"})", "tier"},
            {R"({"kind":"TIER","tier":"SILVER","min_quantity":5,"percent_off":"5"})",
             "min_quantity"},
            {R"({"kind":"QUANTITY","percent_off":"5"})", "min_quantity"},
            {R"({"kind":"QUANTITY","min_quantity":0,"percent_off":"5"})", "min_quantity"},
            {R"({"kind":"QUANTITY","min_quantity":2.5,"percent_off":"5"})", "min_quantity"},
            {R"({"kind":"QUANTITY","min_quantity":99999999999,"percent_off":"5"})", "min_quantity"},
            {R"({"kind":"TIER","tier":"DIAMOND","percent_off":"5"})", "tier"},
            {R"({"kind":"TIER","percent_off":"5"})", "tier"},
        };
        for (const auto &[body, field] : cases)
            assert_field_error(http.post("/api/pricing/rules/", body, admin_token()), field, body);
        assert_problem(http.post("/api/pricing/rules/", "{\"kind\":", admin_token()), 400,
                       "malformed JSON");
        assert_problem(http.post("/api/pricing/rules/", "[1]", admin_token()), 400, "array body");
        CPPUNIT_ASSERT_EQUAL(before, rule_count());
    }

    void ruleWritesNeedAdmin() {
        Http http;
        const auto before = rule_count();
        const std::string body = R"({"kind":"TIER","tier":"SILVER","percent_off":"5"})";
        assert_problem(http.post("/api/pricing/rules/", body), 401, "no token");
        assert_problem(http.post("/api/pricing/rules/", body, "wrong"), 401, "bad token");
        // Authentication comes before parsing: an invalid body without a token is still 401.
        assert_problem(
            http.post("/api/pricing/rules/", "not json", "", {{"Content-Type", "text/plain"}}), 401,
            "401 before 415");
        const auto gold = rule_id("kind = 'TIER' AND tier = 'GOLD'");
        assert_problem(http.del("/api/pricing/rules/" + std::to_string(gold) + "/"), 401,
                       "delete without token");
        assert_problem(http.del("/api/pricing/rules/" + std::to_string(gold) + "/", "wrong"), 401,
                       "delete, bad token");
        CPPUNIT_ASSERT_EQUAL(gold, rule_id("kind = 'TIER' AND tier = 'GOLD'"));
        CPPUNIT_ASSERT_EQUAL(before, rule_count());
        CPPUNIT_ASSERT_EQUAL(std::string("Bearer"),
                             http.post("/api/pricing/rules/", body).header("WWW-Authenticate"));
    }

    void nonJsonRuleBodyIs415() {
        Http http;
        assert_problem(http.post("/api/pricing/rules/", "kind=TIER", admin_token(),
                                 {{"Content-Type", "text/plain"}}),
                       415, "text/plain body");
    }

    void deleteUnknownRuleIs404() {
        Http http;
        assert_problem(http.del("/api/pricing/rules/999999999999/", admin_token()), 404,
                       "unknown rule");
        assert_problem(http.del("/api/pricing/rules/99999999999999999999/", admin_token()), 404,
                       "id beyond int64");
    }

    void wrongMethodsAre405() {
        Http http;
        auto r = http.put("/api/pricing/rules/", "{}", admin_token());
        assert_problem(r, 405, "PUT rules");
        CPPUNIT_ASSERT_EQUAL(std::string("GET, POST"), r.header("Allow"));
        r = http.get("/api/pricing/rules/1/");
        assert_problem(r, 405, "GET one rule");
        CPPUNIT_ASSERT_EQUAL(std::string("DELETE"), r.header("Allow"));
        assert_problem(http.post("/api/pricing/1/price/", "{}", admin_token()), 405, "POST price");
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PricingITest);
