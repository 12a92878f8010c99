// Unit tests of the pricing plugin: the price maths, route/service input validation and the
// JSON it renders. No database.
#include "pricing_domain.hpp"

#include "shopd/json.hpp"

#include <cppunit/extensions/HelperMacros.h>

#include <stdexcept>

using namespace shopd;
using namespace shopd::pricing;

namespace {

Rule quantity_rule(std::int64_t id, std::int64_t min_quantity, BasisPoints bp) {
    return Rule{id, RuleKind::quantity, min_quantity, "", bp};
}

Rule tier_rule(std::int64_t id, const std::string &tier, BasisPoints bp) {
    return Rule{id, RuleKind::tier, 0, tier, bp};
}

/// The rules migration 002 creates: 10+ units -> 10 %, GOLD -> 15 %.
std::vector<Rule> default_rules() {
    return {quantity_rule(1, 10, 1000), tier_rule(2, "GOLD", 1500)};
}

PriceInput input(Cents base, Cents delta, std::int64_t quantity, const std::string &tier) {
    return PriceInput{base, delta, quantity, tier};
}

/// The field errors of the 400 ClientError `fn` throws (fails the test if it throws nothing else).
template <class Fn>
FieldErrors errors_of(Fn &&fn, const std::string &what) {
    try {
        fn();
    } catch (const ClientError &e) {
        CPPUNIT_ASSERT_EQUAL_MESSAGE(what, 400, e.status);
        return e.errors;
    }
    CPPUNIT_FAIL(what + ": accepted");
    return {};
}

FieldErrors query_errors(const std::string &raw) {
    return errors_of([&] { parse_price_query(Query(raw)); }, raw);
}

Rule new_rule(const std::string &body) { return parse_new_rule(parse_json_object(body)); }

FieldErrors rule_errors(const std::string &body) {
    return errors_of([&] { new_rule(body); }, body);
}

FieldErrors service_errors(const std::string &body) {
    return errors_of([&] { parse_service_input(body); }, body);
}

bool only(const FieldErrors &errors, const std::string &field) {
    return errors.size() == 1 && errors.count(field);
}

}  // namespace

class PricingMathTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PricingMathTest);
    CPPUNIT_TEST(testSeedExample);
    CPPUNIT_TEST(testRoundsHalfUpAtEachStep);
    CPPUNIT_TEST(testRoundsAfterEachStepNotOnce);
    CPPUNIT_TEST(testZeroAndHundredPercent);
    CPPUNIT_TEST(testMaxPriceAndQuantityDoNotOverflow);
    CPPUNIT_TEST(testHighestMinQuantityWins);
    CPPUNIT_TEST(testQuantityRuleAppliesFromItsMinimum);
    CPPUNIT_TEST(testNoRules);
    CPPUNIT_TEST(testTierWithoutRule);
    CPPUNIT_TEST(testTierRuleOnlyForItsTier);
    CPPUNIT_TEST(testVariantDelta);
    CPPUNIT_TEST(testRejectsInputTheApiCannotSend);
    CPPUNIT_TEST(testKinds);
    CPPUNIT_TEST_SUITE_END();

public:
    void testSeedExample() {
        const auto p = compute_price(input(50000, 5000, 10, "GOLD"), default_rules());
        CPPUNIT_ASSERT_EQUAL(std::string("420.75"), format_money(p.unit_price));
        CPPUNIT_ASSERT_EQUAL(std::string("4207.50"), format_money(p.total));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), p.applied.size());
        CPPUNIT_ASSERT(p.applied[0].kind == RuleKind::quantity);  // quantity first, then tier
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), p.applied[0].id);
        CPPUNIT_ASSERT(p.applied[1].kind == RuleKind::tier);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(2), p.applied[1].id);
        // Rule order in the input does not matter.
        const auto reversed =
            compute_price(input(50000, 5000, 10, "GOLD"),
                          {tier_rule(2, "GOLD", 1500), quantity_rule(1, 10, 1000)});
        CPPUNIT_ASSERT_EQUAL(p.unit_price, reversed.unit_price);
        CPPUNIT_ASSERT(reversed.applied[0].kind == RuleKind::quantity);
    }

    void testRoundsHalfUpAtEachStep() {
        // 0.05 at 10 % off = 0.045 -> 0.05
        CPPUNIT_ASSERT_EQUAL(
            Cents(5), compute_price(input(5, 0, 10, "STANDARD"), default_rules()).unit_price);
        // 1.15 at 50 % off = 0.575 -> 0.58
        CPPUNIT_ASSERT_EQUAL(
            Cents(58),
            compute_price(input(115, 0, 1, "GOLD"), {tier_rule(1, "GOLD", 5000)}).unit_price);
        // 0.01 at 50 % = 0.005 -> 0.01; at 50.01 % = 0.004999 -> 0.00
        CPPUNIT_ASSERT_EQUAL(
            Cents(1),
            compute_price(input(1, 0, 1, "GOLD"), {tier_rule(1, "GOLD", 5000)}).unit_price);
        CPPUNIT_ASSERT_EQUAL(
            Cents(0),
            compute_price(input(1, 0, 1, "GOLD"), {tier_rule(1, "GOLD", 5001)}).unit_price);
        // 1.05 at 10 % = 0.945 -> 0.95; 12.5 % of 9.99 = 8.74125 -> 8.74
        CPPUNIT_ASSERT_EQUAL(
            Cents(95), compute_price(input(105, 0, 10, "SILVER"), default_rules()).unit_price);
        CPPUNIT_ASSERT_EQUAL(
            Cents(874),
            compute_price(input(999, 0, 1, "SILVER"), {tier_rule(3, "SILVER", 1250)}).unit_price);
        // x.xx5 at a fractional percent: 3.33 at 33.33 % = 2.220111 -> 2.22; 2.00 at 0.25 % = 1.995
        // -> 2.00
        CPPUNIT_ASSERT_EQUAL(
            Cents(222),
            compute_price(input(333, 0, 1, "GOLD"), {tier_rule(1, "GOLD", 3333)}).unit_price);
        CPPUNIT_ASSERT_EQUAL(
            Cents(200),
            compute_price(input(200, 0, 1, "GOLD"), {tier_rule(1, "GOLD", 25)}).unit_price);
    }

    void testRoundsAfterEachStepNotOnce() {
        // 0.05 -10 % = 0.045 -> 0.05, -10 % again -> 0.05; one combined 19 % would give 0.0405 ->
        // 0.04.
        const auto p = compute_price(input(5, 0, 10, "GOLD"),
                                     {quantity_rule(1, 10, 1000), tier_rule(2, "GOLD", 1000)});
        CPPUNIT_ASSERT_EQUAL(Cents(5), p.unit_price);
        CPPUNIT_ASSERT_EQUAL(Cents(50), p.total);
        // 1.15 -50 % = 0.58, -50 % = 0.29.
        const auto q = compute_price(input(115, 0, 3, "GOLD"),
                                     {quantity_rule(1, 2, 5000), tier_rule(2, "GOLD", 5000)});
        CPPUNIT_ASSERT_EQUAL(Cents(29), q.unit_price);
        CPPUNIT_ASSERT_EQUAL(Cents(87), q.total);
    }

    void testZeroAndHundredPercent() {
        const auto zero = compute_price(input(12345, 0, 10, "GOLD"),
                                        {quantity_rule(1, 1, 0), tier_rule(2, "GOLD", 0)});
        CPPUNIT_ASSERT_EQUAL(Cents(12345), zero.unit_price);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), zero.applied.size());  // a 0 % rule still applied
        const auto free =
            compute_price(input(12345, 100, 7, "GOLD"), {tier_rule(2, "GOLD", 10000)});
        CPPUNIT_ASSERT_EQUAL(Cents(0), free.unit_price);
        CPPUNIT_ASSERT_EQUAL(Cents(0), free.total);
        CPPUNIT_ASSERT_EQUAL(std::string("0.00"), format_money(free.total));
    }

    void testMaxPriceAndQuantityDoNotOverflow() {
        const auto p = compute_price(input(kMaxNumeric12_2, 0, kMaxQuantity, "STANDARD"), {});
        CPPUNIT_ASSERT_EQUAL(std::string("9999999999.99"), format_money(p.unit_price));
        CPPUNIT_ASSERT_EQUAL(std::string("99999999999900.00"), format_money(p.total));
        // A maximal delta on a maximal base: the unit exceeds NUMERIC(12,2), still exact.
        const auto q = compute_price(input(kMaxNumeric12_2, kMaxNumeric12_2, kMaxQuantity, "GOLD"),
                                     default_rules());
        // 19999999999.98 -10 % = 17999999999.982 -> 17999999999.98; -15 % = 15299999999.983 ->
        // 15299999999.98
        CPPUNIT_ASSERT_EQUAL(std::string("15299999999.98"), format_money(q.unit_price));
        CPPUNIT_ASSERT_EQUAL(std::string("152999999999800.00"), format_money(q.total));
    }

    void testHighestMinQuantityWins() {
        const std::vector<Rule> rules = {quantity_rule(7, 100, 2000), quantity_rule(5, 5, 500),
                                         quantity_rule(6, 10, 1000), quantity_rule(8, 10000, 5000)};
        auto applied_id = [&](std::int64_t qty) {
            const auto p = compute_price(input(10000, 0, qty, "STANDARD"), rules);
            return p.applied.empty() ? std::int64_t(0) : p.applied.at(0).id;
        };
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), applied_id(4));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(5), applied_id(5));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(5), applied_id(9));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(6), applied_id(10));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(6), applied_id(99));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(7), applied_id(100));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(7), applied_id(9999));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(8), applied_id(10000));
        CPPUNIT_ASSERT_EQUAL(Cents(8000),
                             compute_price(input(10000, 0, 150, "STANDARD"), rules).unit_price);
        CPPUNIT_ASSERT(quantity_rule_for(rules, 1) == nullptr);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(100), quantity_rule_for(rules, 500)->min_quantity);
    }

    void testQuantityRuleAppliesFromItsMinimum() {
        const auto at9 = compute_price(input(55000, 0, 9, "STANDARD"), default_rules());
        const auto at10 = compute_price(input(55000, 0, 10, "STANDARD"), default_rules());
        CPPUNIT_ASSERT_EQUAL(Cents(55000), at9.unit_price);
        CPPUNIT_ASSERT(at9.applied.empty());
        CPPUNIT_ASSERT_EQUAL(Cents(49500), at10.unit_price);
        CPPUNIT_ASSERT_EQUAL(Cents(495000), at10.total);
    }

    void testNoRules() {
        const auto p = compute_price(input(50000, 5000, 10, "GOLD"), {});
        CPPUNIT_ASSERT_EQUAL(Cents(55000), p.unit_price);
        CPPUNIT_ASSERT_EQUAL(Cents(550000), p.total);
        CPPUNIT_ASSERT(p.applied.empty());
    }

    void testTierWithoutRule() {
        for (const char *tier : {"STANDARD", "SILVER", "PLATINUM"}) {
            const auto p = compute_price(input(50000, 5000, 10, tier), default_rules());
            CPPUNIT_ASSERT_EQUAL_MESSAGE(tier, Cents(49500), p.unit_price);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(tier, std::size_t(1), p.applied.size());
        }
        CPPUNIT_ASSERT(tier_rule_for(default_rules(), "SILVER") == nullptr);
    }

    void testTierRuleOnlyForItsTier() {
        const std::vector<Rule> rules = {tier_rule(1, "GOLD", 1500), tier_rule(2, "PLATINUM", 2000),
                                         tier_rule(3, "SILVER", 500)};
        CPPUNIT_ASSERT_EQUAL(Cents(8000),
                             compute_price(input(10000, 0, 1, "PLATINUM"), rules).unit_price);
        CPPUNIT_ASSERT_EQUAL(Cents(9500),
                             compute_price(input(10000, 0, 1, "SILVER"), rules).unit_price);
        CPPUNIT_ASSERT_EQUAL(Cents(10000),
                             compute_price(input(10000, 0, 1, "STANDARD"), rules).unit_price);
    }

    void testVariantDelta() {
        CPPUNIT_ASSERT_EQUAL(Cents(700),
                             compute_price(input(1000, -300, 1, "STANDARD"), {}).unit_price);
        // A delta below -base prices at 0, never negative.
        CPPUNIT_ASSERT_EQUAL(Cents(0),
                             compute_price(input(1000, -2000, 3, "GOLD"), default_rules()).total);
        CPPUNIT_ASSERT_EQUAL(Cents(1050),
                             compute_price(input(1000, 50, 1, "STANDARD"), {}).unit_price);
    }

    void testRejectsInputTheApiCannotSend() {
        CPPUNIT_ASSERT_THROW(compute_price(input(100, 0, 0, "GOLD"), {}), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(compute_price(input(100, 0, -1, "GOLD"), {}), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(compute_price(input(100, 0, 10001, "GOLD"), {}),
                             std::invalid_argument);
        CPPUNIT_ASSERT_THROW(compute_price(input(kMaxNumeric12_2 + 1, 0, 1, "GOLD"), {}),
                             std::invalid_argument);
        CPPUNIT_ASSERT_THROW(compute_price(input(-1, 0, 1, "GOLD"), {}), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(compute_price(input(100, -kMaxNumeric12_2 - 1, 1, "GOLD"), {}),
                             std::invalid_argument);
        CPPUNIT_ASSERT_THROW(compute_price(input(100, 0, 1, "GOLD"), {tier_rule(1, "GOLD", 10001)}),
                             std::invalid_argument);
        CPPUNIT_ASSERT_THROW(compute_price(input(100, 0, 1, "gold"), {}), std::invalid_argument);
    }

    void testKinds() {
        CPPUNIT_ASSERT(parse_kind("QUANTITY") == RuleKind::quantity);
        CPPUNIT_ASSERT(parse_kind("TIER") == RuleKind::tier);
        CPPUNIT_ASSERT(!parse_kind("tier"));
        CPPUNIT_ASSERT_EQUAL(std::string("QUANTITY"), std::string(kind_name(RuleKind::quantity)));
        CPPUNIT_ASSERT_EQUAL(std::string("TIER"), std::string(kind_name(RuleKind::tier)));
    }
};

class PricingInputTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PricingInputTest);
    CPPUNIT_TEST(testPriceQueryDefaults);
    CPPUNIT_TEST(testPriceQueryValues);
    CPPUNIT_TEST(testPriceQueryRejectsBadQuantity);
    CPPUNIT_TEST(testPriceQueryRejectsBadTierAndVariant);
    CPPUNIT_TEST(testPriceQueryReportsEveryError);
    CPPUNIT_TEST(testNewQuantityRule);
    CPPUNIT_TEST(testNewTierRule);
    CPPUNIT_TEST(testNewRuleRejectsBadPercent);
    CPPUNIT_TEST(testNewRuleRejectsWrongShape);
    CPPUNIT_TEST(testNewRuleRejectsBadMinQuantityAndTier);
    CPPUNIT_TEST(testServiceInput);
    CPPUNIT_TEST(testServiceInputRejects);
    CPPUNIT_TEST_SUITE_END();

public:
    void testPriceQueryDefaults() {
        const auto q = parse_price_query(Query(""));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), q.quantity);
        CPPUNIT_ASSERT_EQUAL(std::string("STANDARD"), q.tier);
        CPPUNIT_ASSERT(!q.variant_id);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), parse_price_query(Query("other=x&page=2")).quantity);
    }

    void testPriceQueryValues() {
        const auto q = parse_price_query(Query("quantity=10&user_tier=GOLD&variant_id=42"));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(10), q.quantity);
        CPPUNIT_ASSERT_EQUAL(std::string("GOLD"), q.tier);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(42), *q.variant_id);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(10000),
                             parse_price_query(Query("quantity=10000")).quantity);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), parse_price_query(Query("quantity=1")).quantity);
        CPPUNIT_ASSERT_EQUAL(std::string("PLATINUM"),
                             parse_price_query(Query("user_tier=PLATINUM")).tier);
    }

    void testPriceQueryRejectsBadQuantity() {
        for (const char *bad : {"0", "-1", "10001", "abc", "1.5", "", "1e3", "99999999999999999999",
                                "%2B5", "5%20", "1%00"})
            CPPUNIT_ASSERT_MESSAGE(bad,
                                   only(query_errors(std::string("quantity=") + bad), "quantity"));
    }

    void testPriceQueryRejectsBadTierAndVariant() {
        for (const char *bad : {"gold", "DIAMOND", "", "GOLD%20"})
            CPPUNIT_ASSERT_MESSAGE(
                bad, only(query_errors(std::string("user_tier=") + bad), "user_tier"));
        for (const char *bad : {"0", "-3", "abc", "1.5", "", "99999999999999999999"})
            CPPUNIT_ASSERT_MESSAGE(
                bad, only(query_errors(std::string("variant_id=") + bad), "variant_id"));
    }

    void testPriceQueryReportsEveryError() {
        const auto e = query_errors("quantity=0&user_tier=x&variant_id=y");
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), e.size());
        CPPUNIT_ASSERT(e.count("quantity") && e.count("user_tier") && e.count("variant_id"));
    }

    void testNewQuantityRule() {
        const auto r = new_rule(R"({"kind":"QUANTITY","min_quantity":10,"percent_off":"10"})");
        CPPUNIT_ASSERT(r.kind == RuleKind::quantity);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(10), r.min_quantity);
        CPPUNIT_ASSERT_EQUAL(BasisPoints(1000), r.percent_off);
        CPPUNIT_ASSERT(r.tier.empty());
        // A null tier counts as absent; numbers may be strings and percents numbers.
        const auto s =
            new_rule(R"({"kind":"QUANTITY","min_quantity":"25","percent_off":12.5,"tier":null})");
        CPPUNIT_ASSERT_EQUAL(std::int64_t(25), s.min_quantity);
        CPPUNIT_ASSERT_EQUAL(BasisPoints(1250), s.percent_off);
    }

    void testNewTierRule() {
        const auto r =
            new_rule(R"({"kind":"TIER","tier":"GOLD","percent_off":"15","min_quantity":null})");
        CPPUNIT_ASSERT(r.kind == RuleKind::tier);
        CPPUNIT_ASSERT_EQUAL(std::string("GOLD"), r.tier);
        CPPUNIT_ASSERT_EQUAL(BasisPoints(1500), r.percent_off);
        CPPUNIT_ASSERT_EQUAL(
            BasisPoints(0),
            new_rule(R"({"kind":"TIER","tier":"SILVER","percent_off":"0"})").percent_off);
        CPPUNIT_ASSERT_EQUAL(
            BasisPoints(10000),
            new_rule(R"({"kind":"TIER","tier":"SILVER","percent_off":"100.00"})").percent_off);
        CPPUNIT_ASSERT_EQUAL(
            BasisPoints(1),
            new_rule(R"({"kind":"TIER","tier":"SILVER","percent_off":"0.01"})").percent_off);
    }

    void testNewRuleRejectsBadPercent() {
        for (const char *bad : {R"("100.01")", R"("-1")", R"("101")", R"("1.005")", R"("abc")",
                                R"("")", "true", "null", "[]", R"("1e1")"}) {
            const std::string body =
                std::string(R"({"kind":"TIER","tier":"GOLD","percent_off":)") + bad + "}";
            CPPUNIT_ASSERT_MESSAGE(body, only(rule_errors(body), "percent_off"));
        }
        CPPUNIT_ASSERT(only(rule_errors(R"({"kind":"TIER","tier":"GOLD"})"), "percent_off"));
    }

    void testNewRuleRejectsWrongShape() {
        CPPUNIT_ASSERT(
            only(rule_errors(
                     R"({"kind":"QUANTITY","min_quantity":10,"tier":"GOLD","percent_off":"10"})"),
                 "tier"));
        CPPUNIT_ASSERT(only(
            rule_errors(R"({"kind":"TIER","tier":"GOLD","min_quantity":10,"percent_off":"10"})"),
            "min_quantity"));
        CPPUNIT_ASSERT(
            only(rule_errors(R"({"kind":"QUANTITY","percent_off":"10"})"), "min_quantity"));
        CPPUNIT_ASSERT(only(rule_errors(R"({"kind":"TIER","percent_off":"10"})"), "tier"));
        CPPUNIT_ASSERT(only(rule_errors(R"({"min_quantity":10,"percent_off":"10"})"), "kind"));
        CPPUNIT_ASSERT(only(
            rule_errors(R"({"kind":"quantity","min_quantity":10,"percent_off":"10"})"), "kind"));
        const auto all = rule_errors("{}");
        CPPUNIT_ASSERT(all.count("kind") && all.count("percent_off"));
        CPPUNIT_ASSERT_THROW(new_rule("[1]"), ClientError);
    }

    void testNewRuleRejectsBadMinQuantityAndTier() {
        for (const char *bad : {"0", "-5", "1.5", R"("x")", "true", "2147483648", "{}"}) {
            const std::string body =
                std::string(R"({"kind":"QUANTITY","percent_off":"5","min_quantity":)") + bad + "}";
            CPPUNIT_ASSERT_MESSAGE(body, only(rule_errors(body), "min_quantity"));
        }
        CPPUNIT_ASSERT_EQUAL(
            std::int64_t(2147483647),
            new_rule(R"({"kind":"QUANTITY","percent_off":"5","min_quantity":2147483647})")
                .min_quantity);
        for (const char *bad : {R"("gold")", R"("DIAMOND")", "1", R"("")"}) {
            const std::string body =
                std::string(R"({"kind":"TIER","percent_off":"5","tier":)") + bad + "}";
            CPPUNIT_ASSERT_MESSAGE(body, only(rule_errors(body), "tier"));
        }
    }

    void testServiceInput() {
        const auto in = parse_service_input(R"({"variant_id":42,"quantity":10,"tier":"GOLD"})");
        CPPUNIT_ASSERT_EQUAL(std::int64_t(42), in.variant_id);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(10), in.quantity);
        CPPUNIT_ASSERT_EQUAL(std::string("GOLD"), in.tier);
        const auto defaults = parse_service_input(R"({"variant_id":"7"})");
        CPPUNIT_ASSERT_EQUAL(std::int64_t(7), defaults.variant_id);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), defaults.quantity);
        CPPUNIT_ASSERT_EQUAL(std::string("STANDARD"), defaults.tier);
    }

    void testServiceInputRejects() {
        CPPUNIT_ASSERT(only(service_errors(R"({"quantity":1})"), "variant_id"));
        CPPUNIT_ASSERT(only(service_errors(R"({"variant_id":0})"), "variant_id"));
        for (const char *bad : {"0", "10001", "1.5", R"("abc")"})
            CPPUNIT_ASSERT_MESSAGE(
                bad, only(service_errors(std::string(R"({"variant_id":1,"quantity":)") + bad + "}"),
                          "quantity"));
        CPPUNIT_ASSERT(only(service_errors(R"({"variant_id":1,"tier":"gold"})"), "tier"));
        CPPUNIT_ASSERT_EQUAL(
            std::size_t(3),
            service_errors(R"({"variant_id":null,"quantity":-1,"tier":"x"})").size());
        for (const char *bad : {"", "not json", "[1]", "42"})
            CPPUNIT_ASSERT_MESSAGE(bad, service_errors(bad).empty());  // 400 without field errors
    }
};

class PricingRenderTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PricingRenderTest);
    CPPUNIT_TEST(testPriceJson);
    CPPUNIT_TEST(testPriceJsonWithoutVariant);
    CPPUNIT_TEST(testRuleJson);
    CPPUNIT_TEST(testRulesPageJson);
    CPPUNIT_TEST(testServiceJson);
    CPPUNIT_TEST_SUITE_END();

    static Quote seed_quote() {
        return make_quote(3, 9, input(50000, 5000, 10, "GOLD"), default_rules());
    }

public:
    void testPriceJson() {
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"({"product_id":3,"variant_id":9,"quantity":10,"user_tier":"GOLD","base_price":"500.00",)"
                R"("variant_adjustment":"50.00","unit_price":"420.75","total":"4207.50","applied_rules":[)"
                R"({"id":1,"kind":"QUANTITY","percent_off":"10"},{"id":2,"kind":"TIER","percent_off":"15"}],)"
                R"("engine":"pricing/1.0.0"})"),
            price_json(seed_quote(), "pricing/1.0.0"));
    }

    void testPriceJsonWithoutVariant() {
        const Quote q =
            make_quote(3, std::nullopt, input(123456, 0, 1, "STANDARD"), default_rules());
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"({"product_id":3,"variant_id":null,"quantity":1,"user_tier":"STANDARD","base_price":"1234.56",)"
                R"("variant_adjustment":"0.00","unit_price":"1234.56","total":"1234.56","applied_rules":[],)"
                R"("engine":"pricing/2.0.0"})"),
            price_json(q, "pricing/2.0.0"));
    }

    void testRuleJson() {
        auto json = [](const Rule &r) {
            return render_json([&](JsonWriter &w) { write_rule(w, r); });
        };
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"({"id":4,"kind":"QUANTITY","min_quantity":10,"tier":null,"percent_off":"12.5"})"),
            json(quantity_rule(4, 10, 1250)));
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"({"id":5,"kind":"TIER","min_quantity":null,"tier":"GOLD","percent_off":"15"})"),
            json(tier_rule(5, "GOLD", 1500)));
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"({"id":6,"kind":"TIER","min_quantity":null,"tier":"SILVER","percent_off":"0.05"})"),
            json(tier_rule(6, "SILVER", 5)));
    }

    void testRulesPageJson() {
        // The page GET /api/pricing/rules/ answers (reply_page renders it with write_rule).
        auto page = [](std::int64_t count, const std::optional<std::string> &next,
                       const std::optional<std::string> &previous, const std::vector<Rule> &rules) {
            return render_page(count, next, previous, rules, write_rule);
        };
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"count":0,"next":null,"previous":null,"results":[]})"),
                             page(0, std::nullopt, std::nullopt, {}));
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"({"count":3,"next":"http://h/api/pricing/rules/?page=3","previous":"http://h/api/pricing/rules/",)"
                R"("results":[{"id":1,"kind":"QUANTITY","min_quantity":10,"tier":null,"percent_off":"10"}]})"),
            page(3, std::string("http://h/api/pricing/rules/?page=3"),
                 std::string("http://h/api/pricing/rules/"), {quantity_rule(1, 10, 1000)}));
    }

    void testServiceJson() {
        CPPUNIT_ASSERT_EQUAL(
            std::string(R"({"product_id":3,"variant_id":9,"quantity":10,"tier":"GOLD",)"
                        R"("unit_price":"420.75","total":"4207.50","engine":"pricing/1.0.0"})"),
            service_price_json(seed_quote(), "pricing/1.0.0"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PricingMathTest);
CPPUNIT_TEST_SUITE_REGISTRATION(PricingInputTest);
CPPUNIT_TEST_SUITE_REGISTRATION(PricingRenderTest);
