// Integration tests of the pricing routes through nginx + shopd + PostgreSQL. Products come
// from the catalog API; rules the tests create are deleted again, so the default rules (10+ ->
// 10 %, GOLD -> 15 %) are what later tests see. The database is shared: nothing assumes empty
// tables.
#include "http_client.hpp"

#include <cppunit/extensions/HelperMacros.h>
#include <pqxx/pqxx>

#include <unistd.h>

#include <ctime>
#include <string>
#include <utility>
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

/// Runs one SQL statement with parameters on the test database (for what the API cannot do, or
/// must not be trusted to check itself).
template <class... Args>
pqxx::result sql(const std::string &query, Args &&...args) {
    pqxx::connection c(env("SHOPD_DATABASE_URL"));
    pqxx::work tx(c);
    auto rows = tx.exec_params(query, std::forward<Args>(args)...);
    tx.commit();
    return rows;
}

/// The stored row of rule `id` as JSON text ("" when there is none): "nothing written" checks.
std::string rule_row(long long id) {
    const auto rows = sql("SELECT row_to_json(r)::text FROM pricing_rules r WHERE id = $1", id);
    return rows.empty() ? std::string() : rows[0][0].c_str();
}

/// A min_quantity in 2000..6999 that no QUANTITY rule uses (quotes go up to 10000, and the
/// other tests' rules use 7000..8999 and 10).
int free_min_quantity() {
    return sql("SELECT g FROM generate_series(2000, 6999) g WHERE NOT EXISTS ("
               "SELECT 1 FROM pricing_rules WHERE kind = 'QUANTITY' AND min_quantity = g) "
               "ORDER BY random() LIMIT 1")[0][0]
        .as<int>();
}

/// Now + `seconds` as RFC 3339 UTC, whole seconds.
std::string utc_in(long long seconds) {
    const std::time_t t = std::time(nullptr) + static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf, n);
}

/// A customer created through the API (admin).
struct Customer {
    long long id = 0;
    std::string token;
};

Customer create_customer(Http &http, const std::string &tier) {
    const auto r =
        http.post("/api/customers/",
                  "{\"name\":" + quoted(unique("pricing-cust")) + ",\"tier\":" + quoted(tier) + "}",
                  admin_token());
    CPPUNIT_ASSERT_EQUAL_MESSAGE("create customer: " + r.describe(), 201L, r.status);
    const auto d = r.json();
    return Customer{d["id"].GetInt64(), str(d["token"])};
}

std::string rule_path(long long id) { return "/api/pricing/rules/" + std::to_string(id) + "/"; }

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

/// POSTs a rule that must be created; its guard deletes it again.
RuleGuard create_rule(Http &http, const std::string &body) {
    const auto r = http.post("/api/pricing/rules/", body, admin_token());
    CPPUNIT_ASSERT_EQUAL_MESSAGE("create rule " + body + ": " + r.describe(), 201L, r.status);
    return RuleGuard{r.json()["id"].GetInt64()};
}

/// The seed product's quote at `query` (variant added), with `token` if any.
rapidjson::Document seed_quote(Http &http, const std::string &query,
                               const std::string &token = "") {
    const auto &f = fixture();
    const auto r = http.get(
        price_path(f.seed.id, query + "&variant_id=" + std::to_string(f.seed.variant_id)), token);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(query + ": " + r.describe(), 200L, r.status);
    return r.json();
}

/// Asserts a quote's user_tier, unit_price and total, and the kinds of its applied_rules, in order.
void assert_quote(const rapidjson::Value &d, const std::string &tier, const std::string &unit,
                  const std::string &total, const std::vector<std::string> &kinds) {
    CPPUNIT_ASSERT_EQUAL(tier, str(d["user_tier"]));
    CPPUNIT_ASSERT_EQUAL(unit, str(d["unit_price"]));
    CPPUNIT_ASSERT_EQUAL(total, str(d["total"]));
    const auto &applied = d["applied_rules"];
    CPPUNIT_ASSERT_EQUAL(kinds.size(), static_cast<std::size_t>(applied.Size()));
    for (std::size_t i = 0; i < kinds.size(); ++i)
        CPPUNIT_ASSERT_EQUAL(kinds[i], str(applied[static_cast<unsigned>(i)]["kind"]));
}

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
    CPPUNIT_TEST(windowsAreShownInUtc);
    CPPUNIT_TEST(ruleValidOnlyInTheFutureDoesNotApply);
    CPPUNIT_TEST(overlapRefusedOnCreate);
    CPPUNIT_TEST(patchesRule);
    CPPUNIT_TEST(patchNeedsAdmin);
    CPPUNIT_TEST(patchUnknownRuleIs404);
    CPPUNIT_TEST(invalidPatchIs400AndWritesNothing);
    CPPUNIT_TEST(overlapRefusedOnPatch);
    CPPUNIT_TEST(customerRuleNeedsAnExistingCustomer);
    CPPUNIT_TEST(customerRuleAppliesToQuoteWithItsToken);
    CPPUNIT_TEST(badTokenIs401AdminTokenIsPublic);
    CPPUNIT_TEST(archivedProductOrVariantIs404);
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
        CPPUNIT_ASSERT_EQUAL(std::string("500.00"), str(d["base_price"]));
        CPPUNIT_ASSERT_EQUAL(std::string("50.00"), str(d["variant_adjustment"]));
        CPPUNIT_ASSERT_EQUAL(std::string("pricing/1.0.0"), str(d["engine"]));
        assert_quote(d, "GOLD", "420.75", "4207.50", {"QUANTITY", "TIER"});
        const auto &applied = d["applied_rules"];
        CPPUNIT_ASSERT_EQUAL(std::string("10"), str(applied[0]["percent_off"]));
        CPPUNIT_ASSERT_EQUAL(rule_id("kind = 'QUANTITY' AND min_quantity = 10"),
                             static_cast<long long>(applied[0]["id"].GetInt64()));
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
                           rule.HasMember("tier") && rule.HasMember("customer_id") &&
                           rule.HasMember("valid_from") && rule.HasMember("valid_until"));
            if (str(rule["kind"]) == "QUANTITY" && rule["min_quantity"].GetInt() == 10) {
                saw_quantity = true;
                CPPUNIT_ASSERT(rule["tier"].IsNull() && rule["customer_id"].IsNull());
                CPPUNIT_ASSERT(rule["valid_from"].IsNull() && rule["valid_until"].IsNull());
                CPPUNIT_ASSERT_EQUAL(std::string("10"), str(rule["percent_off"]));
            }
            if (str(rule["kind"]) == "TIER" && str(rule["tier"]) == "GOLD") {
                saw_gold = true;
                CPPUNIT_ASSERT(rule["min_quantity"].IsNull() && rule["customer_id"].IsNull());
                CPPUNIT_ASSERT(rule["valid_from"].IsNull() && rule["valid_until"].IsNull());
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
        CPPUNIT_ASSERT_MESSAGE(r.header("Allow"),
                               r.header("Allow").find("PATCH") != std::string::npos &&
                                   r.header("Allow").find("DELETE") != std::string::npos);
        assert_problem(http.put("/api/pricing/rules/1/", "{}", admin_token()), 405, "PUT one rule");
        assert_problem(http.post("/api/pricing/1/price/", "{}", admin_token()), 405, "POST price");
    }

    void windowsAreShownInUtc() {
        Http http;
        const int min = free_min_quantity();
        const auto r =
            http.post("/api/pricing/rules/",
                      R"({"kind":"QUANTITY","min_quantity":)" + std::to_string(min) +
                          R"(,"percent_off":"5","valid_from":"2030-01-01T01:00:00+01:00",)"
                          R"("valid_until":"2030-06-01T00:00:00.25Z"})",
                      admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201L, r.status);
        const auto d = r.json();
        RuleGuard guard{d["id"].GetInt64()};
        CPPUNIT_ASSERT_EQUAL(std::string("2030-01-01T00:00:00Z"), str(d["valid_from"]));
        CPPUNIT_ASSERT_EQUAL(std::string("2030-06-01T00:00:00.250000Z"), str(d["valid_until"]));
        CPPUNIT_ASSERT(d["customer_id"].IsNull() && d["tier"].IsNull());
        // Stored as given: the database holds the same instants.
        CPPUNIT_ASSERT_EQUAL(
            std::string("t"),
            std::string(
                sql("SELECT valid_from = '2030-01-01T00:00:00Z' AND "
                    "valid_until = '2030-06-01T00:00:00.25Z' FROM pricing_rules WHERE id = $1",
                    guard.id)[0][0]
                    .c_str()));
        // The list shows the same object.
        bool seen = false;
        for (int page = 1; !seen; ++page) {
            const auto list =
                http.get("/api/pricing/rules/?page_size=100&page=" + std::to_string(page));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(list.describe(), 200L, list.status);
            // The document must outlive the loop (a temporary's would be freed before it).
            const auto body = list.json();
            for (const auto &rule : body["results"].GetArray())
                if (rule["id"].GetInt64() == guard.id) {
                    seen = true;
                    CPPUNIT_ASSERT_EQUAL(std::string("2030-01-01T00:00:00Z"),
                                         str(rule["valid_from"]));
                    CPPUNIT_ASSERT_EQUAL(std::string("2030-06-01T00:00:00.250000Z"),
                                         str(rule["valid_until"]));
                }
        }
    }

    void ruleValidOnlyInTheFutureDoesNotApply() {
        Http http;
        const int min = free_min_quantity();
        const std::string q = "quantity=" + std::to_string(min);
        // From tomorrow: not yet. 550.00 - the default 10 % applies instead.
        {
            RuleGuard future = create_rule(
                http, R"({"kind":"QUANTITY","min_quantity":)" + std::to_string(min) +
                          R"(,"percent_off":"50","valid_from":")" + utc_in(86400) + R"("})");
            const auto d = seed_quote(http, q);
            CPPUNIT_ASSERT_EQUAL(std::string("495.00"), str(d["unit_price"]));
            CPPUNIT_ASSERT_EQUAL(1u, d["applied_rules"].Size());
            CPPUNIT_ASSERT(d["applied_rules"][0]["id"].GetInt64() != future.id);
        }
        // Expired an hour ago: no longer.
        {
            RuleGuard expired = create_rule(
                http, R"({"kind":"QUANTITY","min_quantity":)" + std::to_string(min) +
                          R"(,"percent_off":"50","valid_until":")" + utc_in(-3600) + R"("})");
            CPPUNIT_ASSERT_EQUAL(std::string("495.00"), str(seed_quote(http, q)["unit_price"]));
        }
        // Valid now (since an hour, for a day): applies.
        RuleGuard now =
            create_rule(http, R"({"kind":"QUANTITY","min_quantity":)" + std::to_string(min) +
                                  R"(,"percent_off":"50","valid_from":")" + utc_in(-3600) +
                                  R"(","valid_until":")" + utc_in(86400) + R"("})");
        const auto d = seed_quote(http, q);
        CPPUNIT_ASSERT_EQUAL(std::string("275.00"), str(d["unit_price"]));
        CPPUNIT_ASSERT_EQUAL(now.id,
                             static_cast<long long>(d["applied_rules"][0]["id"].GetInt64()));
        // A TIER rule of the future beside the default GOLD rule would overlap it (the default is
        // open on both ends), so the future GOLD rule is made by closing the default: not done
        // here, the other tests rely on it. The seed example is untouched by all of this.
        CPPUNIT_ASSERT_EQUAL(std::string("420.75"),
                             str(seed_quote(http, "quantity=10&user_tier=GOLD")["unit_price"]));
    }

    void overlapRefusedOnCreate() {
        Http http;
        const int min = free_min_quantity();
        const std::string head =
            R"({"kind":"QUANTITY","min_quantity":)" + std::to_string(min) + R"(,"percent_off":"5")";
        RuleGuard first = create_rule(http, head + R"(,"valid_from":"2031-01-01T00:00:00Z",)"
                                                   R"("valid_until":"2031-02-01T00:00:00Z"})");
        const auto before = rule_count();
        for (
            const std::string &window :
            {std::string(R"(})"),  // open on both ends
             std::string(R"(,"valid_from":"2031-01-31T23:59:59Z"})"),
             std::string(R"(,"valid_until":"2031-01-01T00:00:00.000001Z"})"),
             std::string(
                 R"(,"valid_from":"2031-01-10T00:00:00Z","valid_until":"2031-01-11T00:00:00Z"})"),
             std::string(
                 R"(,"valid_from":"2031-01-01T01:00:00+01:00","valid_until":"2031-03-01T00:00:00Z"})")})
            assert_field_error(http.post("/api/pricing/rules/", head + window, admin_token()),
                               "min_quantity", "overlap " + window);
        CPPUNIT_ASSERT_EQUAL(before, rule_count());
        // Windows are half-open: one may start where the other ends, and one may end where it
        // starts.
        RuleGuard next = create_rule(http, head + R"(,"valid_from":"2031-02-01T00:00:00Z"})");
        RuleGuard previous = create_rule(http, head + R"(,"valid_until":"2031-01-01T00:00:00Z"})");
        // The default GOLD rule is open on both ends: any GOLD window overlaps it.
        assert_field_error(
            http.post(
                "/api/pricing/rules/",
                R"({"kind":"TIER","tier":"GOLD","percent_off":"5","valid_from":"2040-01-01T00:00:00Z"})",
                admin_token()),
            "tier", "GOLD in the future beside the open default");
        // A window that ends before it starts, or is empty.
        assert_field_error(
            http.post(
                "/api/pricing/rules/",
                head +
                    R"(,"valid_from":"2032-01-02T00:00:00Z","valid_until":"2032-01-01T00:00:00Z"})",
                admin_token()),
            "valid_until", "reversed window");
        assert_field_error(
            http.post(
                "/api/pricing/rules/",
                head +
                    R"(,"valid_from":"2032-01-01T00:00:00Z","valid_until":"2032-01-01T00:00:00Z"})",
                admin_token()),
            "valid_until", "empty window");
        assert_field_error(http.post("/api/pricing/rules/", head + R"(,"valid_from":"2032-01-01"})",
                                     admin_token()),
                           "valid_from", "date without time");
        CPPUNIT_ASSERT_EQUAL(before + 2, rule_count());
    }

    void patchesRule() {
        Http http;
        const int min = free_min_quantity();
        RuleGuard rule = create_rule(http, R"({"kind":"QUANTITY","min_quantity":)" +
                                               std::to_string(min) + R"(,"percent_off":"20"})");
        const std::string q = "quantity=" + std::to_string(min);
        CPPUNIT_ASSERT_EQUAL(std::string("440.00"), str(seed_quote(http, q)["unit_price"]));
        // One field: the others stay.
        auto r = http.patch(rule_path(rule.id), R"({"percent_off":"12.5"})", admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        auto d = r.json();
        CPPUNIT_ASSERT_EQUAL(rule.id, static_cast<long long>(d["id"].GetInt64()));
        CPPUNIT_ASSERT_EQUAL(std::string("QUANTITY"), str(d["kind"]));
        CPPUNIT_ASSERT_EQUAL(min, d["min_quantity"].GetInt());
        CPPUNIT_ASSERT_EQUAL(std::string("12.5"), str(d["percent_off"]));
        CPPUNIT_ASSERT(d["valid_from"].IsNull() && d["valid_until"].IsNull() &&
                       d["tier"].IsNull() && d["customer_id"].IsNull());
        CPPUNIT_ASSERT_EQUAL(std::string("481.25"), str(seed_quote(http, q)["unit_price"]));
        // A window starting tomorrow: the rule stops applying now.
        const std::string tomorrow = utc_in(86400);
        r = http.patch(rule_path(rule.id), R"({"valid_from":")" + tomorrow + R"("})",
                       admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        CPPUNIT_ASSERT_EQUAL(tomorrow, str(r.json()["valid_from"]));
        CPPUNIT_ASSERT_EQUAL(std::string("495.00"), str(seed_quote(http, q)["unit_price"]));
        // Several fields, and the path without its slash; then another kind.
        r = http.patch("/api/pricing/rules/" + std::to_string(rule.id),
                       R"({"valid_from":null,"min_quantity":)" + std::to_string(min + 1) +
                           R"(,"percent_off":"100"})",
                       admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        CPPUNIT_ASSERT_EQUAL(min + 1, r.json()["min_quantity"].GetInt());
        CPPUNIT_ASSERT_EQUAL(
            std::string("0.00"),
            str(seed_quote(http, "quantity=" + std::to_string(min + 1))["unit_price"]));
        const auto customer = create_customer(http, "SILVER");
        r = http.patch(rule_path(rule.id),
                       R"({"kind":"CUSTOMER","customer_id":)" + std::to_string(customer.id) +
                           R"(,"min_quantity":null,"percent_off":"10"})",
                       admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        d = r.json();
        CPPUNIT_ASSERT_EQUAL(std::string("CUSTOMER"), str(d["kind"]));
        CPPUNIT_ASSERT_EQUAL(customer.id, static_cast<long long>(d["customer_id"].GetInt64()));
        CPPUNIT_ASSERT(d["min_quantity"].IsNull());
        // The stored row is what the answer said.
        CPPUNIT_ASSERT_EQUAL(
            std::string("CUSTOMER"),
            std::string(sql("SELECT kind FROM pricing_rules WHERE id = $1 AND customer_id = $2 "
                            "AND min_quantity IS NULL AND percent_off = 10",
                            rule.id, customer.id)[0][0]
                            .c_str()));
        // The SILVER customer (no SILVER rule): 550.00 -10 % (QUANTITY 10) = 495.00, -10 % =
        // 445.50.
        CPPUNIT_ASSERT_EQUAL(std::string("445.50"),
                             str(seed_quote(http, q, customer.token)["unit_price"]));
    }

    void patchNeedsAdmin() {
        Http http;
        const auto gold = rule_id("kind = 'TIER' AND tier = 'GOLD'");
        const auto before = rule_row(gold);
        const std::string body = R"({"percent_off":"99"})";
        assert_problem(http.patch(rule_path(gold), body), 401, "no token");
        assert_problem(http.patch(rule_path(gold), body, "wrong"), 401, "bad token");
        const auto customer = create_customer(http, "GOLD");
        assert_problem(http.patch(rule_path(gold), body, customer.token), 401, "customer token");
        CPPUNIT_ASSERT_EQUAL(std::string("Bearer"),
                             http.patch(rule_path(gold), body).header("WWW-Authenticate"));
        // 401 before 404.
        assert_problem(http.patch(rule_path(999999999999), body), 401, "unknown rule, no token");
        CPPUNIT_ASSERT_EQUAL(before, rule_row(gold));
    }

    void patchUnknownRuleIs404() {
        Http http;
        assert_problem(http.patch(rule_path(999999999999), R"({"percent_off":"5"})", admin_token()),
                       404, "unknown rule");
        assert_problem(http.patch("/api/pricing/rules/99999999999999999999/",
                                  R"({"percent_off":"5"})", admin_token()),
                       404, "id beyond int64");
        // A deleted rule is unknown too.
        long long id = 0;
        {
            RuleGuard rule = create_rule(http, R"({"kind":"QUANTITY","min_quantity":)" +
                                                   std::to_string(free_min_quantity()) +
                                                   R"(,"percent_off":"5"})");
            id = rule.id;
        }
        assert_problem(http.patch(rule_path(id), R"({"percent_off":"6"})", admin_token()), 404,
                       "deleted rule");
    }

    void invalidPatchIs400AndWritesNothing() {
        Http http;
        const int min = free_min_quantity();
        RuleGuard rule =
            create_rule(http, R"({"kind":"QUANTITY","min_quantity":)" + std::to_string(min) +
                                  R"(,"percent_off":"5","valid_from":"2030-01-01T00:00:00Z"})");
        const auto before = rule_row(rule.id);
        const auto count = rule_count();
        const std::vector<std::pair<std::string, std::string>> cases = {
            {R"({"percent_off":"101"})", "percent_off"},
            {R"({"percent_off":null})", "percent_off"},
            {R"({"min_quantity":0})", "min_quantity"},
            {R"({"min_quantity":null})", "min_quantity"},
            {R"({"tier":"GOLD"})", "tier"},
            {R"({"customer_id":1})", "customer_id"},
            {R"({"kind":"TIER","tier":"SILVER"})", "min_quantity"},  // min_quantity not cleared
            {R"({"kind":"CUSTOMER","min_quantity":null})", "customer_id"},
            {R"({"kind":"CUSTOMER","customer_id":999999999999,"min_quantity":null})",
             "customer_id"},
            {R"({"kind":"BULK"})", "kind"},
            {R"({"valid_until":"2029-12-31T23:59:59Z"})", "valid_until"},  // before valid_from
            {R"({"valid_until":"2030-01-01T00:00:00Z"})", "valid_until"},  // empty window
            {R"({"valid_from":"yesterday"})", "valid_from"},
            {R"({"valid_until":"2030-01-02T00:00:00"})", "valid_until"},  // no offset
            // The default QUANTITY 10 rule is open on both ends.
            {R"({"min_quantity":10})", "min_quantity"},
        };
        for (const auto &[body, field] : cases)
            assert_field_error(http.patch(rule_path(rule.id), body, admin_token()), field, body);
        assert_problem(http.patch(rule_path(rule.id), "{\"percent_off\":", admin_token()), 400,
                       "malformed JSON");
        assert_problem(http.patch(rule_path(rule.id), "[1]", admin_token()), 400, "array body");
        assert_problem(http.request("PATCH", rule_path(rule.id), "percent_off=5", admin_token(),
                                    {{"Content-Type", "text/plain"}}),
                       415, "text/plain body");
        CPPUNIT_ASSERT_EQUAL(before, rule_row(rule.id));
        CPPUNIT_ASSERT_EQUAL(count, rule_count());
    }

    void overlapRefusedOnPatch() {
        Http http;
        const int min = free_min_quantity();
        const std::string head =
            R"({"kind":"QUANTITY","min_quantity":)" + std::to_string(min) + R"(,"percent_off":"5")";
        // January, then February on: adjacent, no overlap.
        RuleGuard january = create_rule(http, head + R"(,"valid_from":"2033-01-01T00:00:00Z",)"
                                                     R"("valid_until":"2033-02-01T00:00:00Z"})");
        RuleGuard february = create_rule(http, head + R"(,"valid_from":"2033-02-01T00:00:00Z"})");
        const auto january_row = rule_row(january.id);
        const auto february_row = rule_row(february.id);
        for (const std::string &body :
             {std::string(R"({"valid_until":"2033-02-01T00:00:00.000001Z"})"),
              std::string(R"({"valid_until":null})"),
              std::string(R"({"valid_from":null,"valid_until":"2033-03-01T00:00:00Z"})")})
            assert_field_error(http.patch(rule_path(january.id), body, admin_token()),
                               "min_quantity", "january " + body);
        assert_field_error(http.patch(rule_path(february.id),
                                      R"({"valid_from":"2033-01-31T00:00:00Z"})", admin_token()),
                           "min_quantity", "february starting in january");
        CPPUNIT_ASSERT_EQUAL(january_row, rule_row(january.id));
        CPPUNIT_ASSERT_EQUAL(february_row, rule_row(february.id));
        // Moving a rule within its own window is no overlap with itself.
        const auto r =
            http.patch(rule_path(january.id),
                       R"({"valid_from":"2033-01-15T00:00:00Z","percent_off":"6"})", admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        // A TIER rule moved onto GOLD overlaps the open default GOLD rule.
        assert_field_error(
            http.patch(rule_path(february.id),
                       R"({"kind":"TIER","tier":"GOLD","min_quantity":null})", admin_token()),
            "tier", "onto the default GOLD rule");
        CPPUNIT_ASSERT_EQUAL(february_row, rule_row(february.id));
    }

    void customerRuleNeedsAnExistingCustomer() {
        Http http;
        const auto before = rule_count();
        assert_field_error(
            http.post("/api/pricing/rules/",
                      R"({"kind":"CUSTOMER","customer_id":999999999999,"percent_off":"5"})",
                      admin_token()),
            "customer_id", "unknown customer");
        assert_field_error(http.post("/api/pricing/rules/",
                                     R"({"kind":"CUSTOMER","percent_off":"5"})", admin_token()),
                           "customer_id", "no customer");
        CPPUNIT_ASSERT_EQUAL(before, rule_count());
        // One rule per customer at a time.
        const auto customer = create_customer(http, "STANDARD");
        const std::string body = R"({"kind":"CUSTOMER","customer_id":)" +
                                 std::to_string(customer.id) + R"(,"percent_off":"5"})";
        const auto r = http.post("/api/pricing/rules/", body, admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201L, r.status);
        RuleGuard guard{r.json()["id"].GetInt64()};
        const auto d = r.json();
        CPPUNIT_ASSERT_EQUAL(std::string("CUSTOMER"), str(d["kind"]));
        CPPUNIT_ASSERT_EQUAL(customer.id, static_cast<long long>(d["customer_id"].GetInt64()));
        CPPUNIT_ASSERT(d["min_quantity"].IsNull() && d["tier"].IsNull() &&
                       d["valid_from"].IsNull() && d["valid_until"].IsNull());
        CPPUNIT_ASSERT_EQUAL(std::string("5"), str(d["percent_off"]));
        assert_field_error(http.post("/api/pricing/rules/", body, admin_token()), "customer_id",
                           "second rule for the customer");
        CPPUNIT_ASSERT_EQUAL(before + 1, rule_count());
    }

    void customerRuleAppliesToQuoteWithItsToken() {
        Http http;
        const auto gold = create_customer(http, "GOLD");
        const auto other = create_customer(http, "GOLD");
        RuleGuard rule = create_rule(http, R"({"kind":"CUSTOMER","customer_id":)" +
                                               std::to_string(gold.id) + R"(,"percent_off":"10"})");
        // The customer's tier by default, then the customer's rule after the tier step:
        // 550.00 -10 % = 495.00, -15 % = 420.75, -10 % = 378.675 -> 378.68.
        auto d = seed_quote(http, "quantity=10", gold.token);
        assert_quote(d, "GOLD", "378.68", "3786.80", {"QUANTITY", "TIER", "CUSTOMER"});
        const auto &applied = d["applied_rules"];
        CPPUNIT_ASSERT_EQUAL(rule.id, static_cast<long long>(applied[2]["id"].GetInt64()));
        CPPUNIT_ASSERT_EQUAL(std::string("10"), str(applied[2]["percent_off"]));
        // An explicit ?user_tier= wins over the customer's tier; the customer's rule still counts:
        // 495.00 -10 % = 445.50.
        d = seed_quote(http, "quantity=10&user_tier=STANDARD", gold.token);
        CPPUNIT_ASSERT_EQUAL(std::string("STANDARD"), str(d["user_tier"]));
        CPPUNIT_ASSERT_EQUAL(std::string("445.50"), str(d["unit_price"]));
        // Another customer of the same tier, and the public quote: the seed example, exact.
        for (const auto &token : {other.token, std::string()}) {
            d = seed_quote(http, "quantity=10&user_tier=GOLD", token);
            CPPUNIT_ASSERT_EQUAL(std::string("420.75"), str(d["unit_price"]));
            CPPUNIT_ASSERT_EQUAL(std::string("4207.50"), str(d["total"]));
            CPPUNIT_ASSERT_EQUAL(2u, d["applied_rules"].Size());
        }
        CPPUNIT_ASSERT_EQUAL(std::string("GOLD"),
                             str(seed_quote(http, "quantity=1", other.token)["user_tier"]));
        CPPUNIT_ASSERT_EQUAL(std::string("STANDARD"),
                             str(seed_quote(http, "quantity=1")["user_tier"]));
        // The rule moved to the future stops applying.
        const auto r = http.patch(rule_path(rule.id), R"({"valid_from":")" + utc_in(3600) + R"("})",
                                  admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        CPPUNIT_ASSERT_EQUAL(std::string("420.75"),
                             str(seed_quote(http, "quantity=10", gold.token)["unit_price"]));
    }

    void badTokenIs401AdminTokenIsPublic() {
        const auto &f = fixture();
        Http http;
        const auto r = http.get(price_path(f.seed.id, "quantity=10"), "not-a-token");
        assert_problem(r, 401, "unknown token");
        CPPUNIT_ASSERT_EQUAL(std::string("Bearer"), r.header("WWW-Authenticate"));
        // Authentication comes first, as in DRF: a bad token with a bad query is still a 401.
        assert_problem(http.get(price_path(f.seed.id, "quantity=0"), "not-a-token"), 401,
                       "unknown token, bad query");
        // The admin token authenticates no customer: the public quote.
        const auto d = seed_quote(http, "quantity=10", admin_token());
        CPPUNIT_ASSERT_EQUAL(std::string("STANDARD"), str(d["user_tier"]));
        CPPUNIT_ASSERT_EQUAL(std::string("495.00"), str(d["unit_price"]));
        // A customer's token with a bad query is still a 400.
        const auto customer = create_customer(http, "SILVER");
        assert_field_error(http.get(price_path(f.seed.id, "quantity=0"), customer.token),
                           "quantity", "customer token, bad quantity");
    }

    void archivedProductOrVariantIs404() {
        Http http;
        const auto p = create_product(http, fixture().category, "10.00", "1.00");
        const auto v = "variant_id=" + std::to_string(p.variant_id);
        CPPUNIT_ASSERT_EQUAL(200L, http.get(price_path(p.id, v)).status);
        sql("UPDATE variants SET archived_at = now() WHERE id = $1", p.variant_id);
        assert_problem(http.get(price_path(p.id, v)), 404, "archived variant");
        // The product itself still has a price (of its base).
        const auto base = http.get(price_path(p.id));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(base.describe(), 200L, base.status);
        CPPUNIT_ASSERT_EQUAL(std::string("10.00"), str(base.json()["unit_price"]));
        sql("UPDATE products SET archived_at = now() WHERE id = $1", p.id);
        assert_problem(http.get(price_path(p.id)), 404, "archived product");
        assert_problem(http.get(price_path(p.id, v)), 404, "archived product and variant");
        const auto customer = create_customer(http, "GOLD");
        assert_problem(http.get(price_path(p.id), customer.token), 404,
                       "archived product, customer's quote");
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PricingITest);
