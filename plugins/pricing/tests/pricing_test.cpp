// Unit tests of the pricing plugin: the price maths, route/service input validation and the
// JSON it renders. No database.
#include "pricing_domain.hpp"

#include "shopd/json.hpp"

#include <cppunit/extensions/HelperMacros.h>

#include <limits>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

using namespace shopd;
using namespace shopd::pricing;

namespace {

/// A rule `id` of `kind`, `bp` off, with what it matches on set by `match`.
template <class Match>
Rule rule(std::int64_t id, RuleKind kind, BasisPoints bp, Match &&match) {
    Rule r;
    r.id = id;
    r.kind = kind;
    r.percent_off = bp;
    match(r);
    return r;
}

Rule quantity_rule(std::int64_t id, std::int64_t min_quantity, BasisPoints bp) {
    return rule(id, RuleKind::quantity, bp, [&](Rule &r) { r.min_quantity = min_quantity; });
}

Rule tier_rule(std::int64_t id, const std::string &tier, BasisPoints bp) {
    return rule(id, RuleKind::tier, bp, [&](Rule &r) { r.tier = tier; });
}

Rule customer_rule(std::int64_t id, std::int64_t customer_id, BasisPoints bp) {
    return rule(id, RuleKind::customer, bp, [&](Rule &r) { r.customer_id = customer_id; });
}

/// `r` valid from `from` until `until` (nullopt: open).
Rule windowed(Rule r, std::optional<Micros> from, std::optional<Micros> until) {
    r.valid_from = from;
    r.valid_until = until;
    return r;
}

/// An instant from RFC 3339 text the test knows is valid.
Micros at(const std::string &text) {
    const auto t = parse_rfc3339(text);
    CPPUNIT_ASSERT_MESSAGE(text, t.has_value());
    return *t;
}

/// The rules migration 002 creates: 10+ units -> 10 %, GOLD -> 15 %.
std::vector<Rule> default_rules() {
    return {quantity_rule(1, 10, 1000), tier_rule(2, "GOLD", 1500)};
}

PriceInput input(Cents base, Cents delta, std::int64_t quantity, const std::string &tier) {
    return PriceInput{base, delta, quantity, tier, std::nullopt, 0};
}

/// The same, for a customer at an instant.
PriceInput customer_input(Cents base, Cents delta, std::int64_t quantity, const std::string &tier,
                          std::int64_t customer_id, Micros when = 0) {
    return PriceInput{base, delta, quantity, tier, customer_id, when};
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

FieldErrors rule_update_errors(const Rule &current, const std::string &body) {
    return errors_of([&] { parse_rule_update(current, parse_json_object(body)); }, body);
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
    CPPUNIT_TEST(testCustomerRuleAfterTier);
    CPPUNIT_TEST(testCustomerRuleOnlyForItsCustomer);
    CPPUNIT_TEST(testRulesCountOnlyInTheirWindow);
    CPPUNIT_TEST(testWindowedSuccessorTakesOver);
    CPPUNIT_TEST(testParsesRfc3339);
    CPPUNIT_TEST(testRejectsWhatIsNotRfc3339);
    CPPUNIT_TEST(testFormatsRfc3339);
    CPPUNIT_TEST(testCapsCombinedDiscount);
    CPPUNIT_TEST(testCapRoundsHalfUp);
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
        // 1.05 at 10 % = 0.945 -> 0.95; 12.5 % of 9.99 = 8.74125 -> 8.74
        CPPUNIT_ASSERT_EQUAL(
            Cents(95), compute_price(input(105, 0, 10, "SILVER"), default_rules()).unit_price);
        CPPUNIT_ASSERT_EQUAL(
            Cents(874),
            compute_price(input(999, 0, 1, "SILVER"), {tier_rule(3, "SILVER", 1250)}).unit_price);
        // One unit for a GOLD customer at a GOLD rule of `off`: {base, off, unit price}.
        const struct {
            Cents base;
            BasisPoints off;
            Cents unit;
        } gold[] = {
            {115, 5000, 58},   // 1.15 at 50 % off = 0.575 -> 0.58
            {1, 5000, 1},      // 0.01 at 50 % = 0.005 -> 0.01
            {1, 5001, 0},      // at 50.01 % = 0.004999 -> 0.00
            {333, 3333, 222},  // x.xx5 at a fractional percent: 3.33 at 33.33 % = 2.220111 -> 2.22
            {200, 25, 200},    // 2.00 at 0.25 % = 1.995 -> 2.00
        };
        for (const auto &c : gold)
            CPPUNIT_ASSERT_EQUAL_MESSAGE(
                std::to_string(c.base) + " at " + std::to_string(c.off), c.unit,
                compute_price(input(c.base, 0, 1, "GOLD"), {tier_rule(1, "GOLD", c.off)})
                    .unit_price);
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
        CPPUNIT_ASSERT(quantity_rule_for(rules, 1, 0) == nullptr);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(100), quantity_rule_for(rules, 500, 0)->min_quantity);
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
        CPPUNIT_ASSERT(tier_rule_for(default_rules(), "SILVER", 0) == nullptr);
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
        CPPUNIT_ASSERT(parse_kind("CUSTOMER") == RuleKind::customer);
        CPPUNIT_ASSERT(!parse_kind("tier"));
        CPPUNIT_ASSERT_EQUAL(std::string("QUANTITY"), std::string(kind_name(RuleKind::quantity)));
        CPPUNIT_ASSERT_EQUAL(std::string("TIER"), std::string(kind_name(RuleKind::tier)));
        CPPUNIT_ASSERT_EQUAL(std::string("CUSTOMER"), std::string(kind_name(RuleKind::customer)));
    }

    void testCustomerRuleAfterTier() {
        std::vector<Rule> rules = default_rules();
        rules.push_back(customer_rule(3, 7, 1000));
        // The seed example, then the customer's 10 %: 420.75 - 10 % = 378.675 -> 378.68 (half-up).
        const auto p = compute_price(customer_input(50000, 5000, 10, "GOLD", 7), rules);
        CPPUNIT_ASSERT_EQUAL(std::string("378.68"), format_money(p.unit_price));
        CPPUNIT_ASSERT_EQUAL(std::string("3786.80"), format_money(p.total));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), p.applied.size());
        CPPUNIT_ASSERT(p.applied[0].kind == RuleKind::quantity);
        CPPUNIT_ASSERT(p.applied[1].kind == RuleKind::tier);
        CPPUNIT_ASSERT(p.applied[2].kind == RuleKind::customer);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(3), p.applied[2].id);
        // After the tier step, rounded there: 0.06 - 15 % = 0.051 -> 0.05, - 10 % = 0.045 ->
        // 0.05. The customer step first would give 0.054 -> 0.05, then 0.0425 -> 0.04.
        const std::vector<Rule> small = {customer_rule(3, 7, 1000), tier_rule(2, "GOLD", 1500)};
        CPPUNIT_ASSERT_EQUAL(Cents(5),
                             compute_price(customer_input(6, 0, 1, "GOLD", 7), small).unit_price);
        // Without a tier rule the customer's rule alone applies: 550.00 - 10 % = 495.00.
        CPPUNIT_ASSERT_EQUAL(
            Cents(49500),
            compute_price(customer_input(50000, 5000, 1, "SILVER", 7), rules).unit_price);
    }

    void testCustomerRuleOnlyForItsCustomer() {
        std::vector<Rule> rules = default_rules();
        rules.push_back(customer_rule(3, 7, 1000));
        rules.push_back(customer_rule(4, 8, 5000));
        // The seed example stays 420.75 for a customer without a rule and for a public quote.
        for (const auto &in :
             {customer_input(50000, 5000, 10, "GOLD", 9), input(50000, 5000, 10, "GOLD")}) {
            const auto p = compute_price(in, rules);
            CPPUNIT_ASSERT_EQUAL(std::string("420.75"), format_money(p.unit_price));
            CPPUNIT_ASSERT_EQUAL(std::size_t(2), p.applied.size());
        }
        CPPUNIT_ASSERT_EQUAL(
            Cents(21038),  // 420.75 - 50 % = 210.375 -> 210.38
            compute_price(customer_input(50000, 5000, 10, "GOLD", 8), rules).unit_price);
        CPPUNIT_ASSERT(customer_rule_for(rules, 9, 0) == nullptr);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(4), customer_rule_for(rules, 8, 0)->id);
    }

    void testRulesCountOnlyInTheirWindow() {
        const Micros now = at("2026-06-01T00:00:00Z");
        const Micros later = at("2026-07-01T00:00:00Z");
        const Micros earlier = at("2026-05-01T00:00:00Z");
        auto price = [&](const std::vector<Rule> &rules) {
            return compute_price(customer_input(50000, 5000, 10, "GOLD", 7, now), rules);
        };
        // Not yet valid, or expired (valid_until is exclusive): ignored, whatever the kind.
        for (const auto &window :
             std::vector<std::pair<std::optional<Micros>, std::optional<Micros>>>{
                 {later, std::nullopt}, {now + 1, later}, {earlier, now}, {std::nullopt, now}}) {
            const auto p =
                price({windowed(quantity_rule(1, 10, 1000), window.first, window.second),
                       windowed(tier_rule(2, "GOLD", 1500), window.first, window.second),
                       windowed(customer_rule(3, 7, 1000), window.first, window.second)});
            CPPUNIT_ASSERT_EQUAL(Cents(55000), p.unit_price);
            CPPUNIT_ASSERT(p.applied.empty());
        }
        // Valid from its first instant, and up to its last microsecond.
        for (const auto &window :
             std::vector<std::pair<std::optional<Micros>, std::optional<Micros>>>{
                 {now, std::nullopt}, {earlier, now + 1}, {std::nullopt, later}}) {
            const auto p =
                price({windowed(quantity_rule(1, 10, 1000), window.first, window.second),
                       windowed(tier_rule(2, "GOLD", 1500), window.first, window.second),
                       windowed(customer_rule(3, 7, 1000), window.first, window.second)});
            CPPUNIT_ASSERT_EQUAL(std::string("378.68"), format_money(p.unit_price));
            CPPUNIT_ASSERT_EQUAL(std::size_t(3), p.applied.size());
        }
        const Rule r = windowed(tier_rule(2, "GOLD", 1500), now, later);
        CPPUNIT_ASSERT(!r.valid_at(now - 1) && r.valid_at(now) && r.valid_at(later - 1) &&
                       !r.valid_at(later));
        CPPUNIT_ASSERT(tier_rule(2, "GOLD", 1500).valid_at(std::numeric_limits<Micros>::min()));
    }

    void testWindowedSuccessorTakesOver() {
        // A rule replaced at `change` by one with the same key: each counts in its own window.
        const Micros change = at("2026-12-24T00:00:00Z");
        const std::vector<Rule> rules = {windowed(quantity_rule(1, 10, 1000), std::nullopt, change),
                                         windowed(quantity_rule(5, 10, 2000), change, std::nullopt),
                                         tier_rule(2, "GOLD", 1500)};
        auto unit_at = [&](Micros when) {
            auto in = input(50000, 5000, 10, "STANDARD");
            in.at = when;
            return compute_price(in, rules);
        };
        CPPUNIT_ASSERT_EQUAL(Cents(49500), unit_at(change - 1).unit_price);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), unit_at(change - 1).applied.at(0).id);
        CPPUNIT_ASSERT_EQUAL(Cents(44000), unit_at(change).unit_price);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(5), unit_at(change).applied.at(0).id);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(5), quantity_rule_for(rules, 10, change)->id);
        CPPUNIT_ASSERT(quantity_rule_for(rules, 9, change) == nullptr);
    }

    void testParsesRfc3339() {
        CPPUNIT_ASSERT_EQUAL(Micros(0), at("1970-01-01T00:00:00Z"));
        // As PostgreSQL computes it: extract(epoch FROM '2026-11-26T10:00:00Z') * 1000000.
        const Micros t = 1795687200000000;
        CPPUNIT_ASSERT_EQUAL(t, at("2026-11-26T10:00:00Z"));
        CPPUNIT_ASSERT_EQUAL(t, at("2026-11-26T11:30:00+01:30"));
        CPPUNIT_ASSERT_EQUAL(t, at("2026-11-26T05:00:00-05:00"));
        CPPUNIT_ASSERT_EQUAL(t, at("2026-11-26T10:00:00+00:00"));
        CPPUNIT_ASSERT_EQUAL(t, at("2026-11-26t10:00:00z"));
        CPPUNIT_ASSERT_EQUAL(t, at("2026-11-26 10:00:00Z"));
        CPPUNIT_ASSERT_EQUAL(t + 500000, at("2026-11-26T10:00:00.5Z"));
        CPPUNIT_ASSERT_EQUAL(t + 123456, at("2026-11-26T10:00:00.123456Z"));
        CPPUNIT_ASSERT_EQUAL(t + 123456, at("2026-11-26T10:00:00.1234567Z"));  // past µs: dropped
        CPPUNIT_ASSERT_EQUAL(Micros(-1), at("1969-12-31T23:59:59.999999Z"));
        CPPUNIT_ASSERT_EQUAL(at("2024-03-01T00:00:00Z") - 86400 * Micros(1000000),
                             at("2024-02-29T00:00:00Z"));  // a leap day
        CPPUNIT_ASSERT_EQUAL(at("2000-03-01T00:00:00Z") - 86400 * Micros(1000000),
                             at("2000-02-29T00:00:00Z"));  // 2000 is a leap year
        CPPUNIT_ASSERT(parse_rfc3339("0001-01-01T00:00:00Z").has_value());
        CPPUNIT_ASSERT(parse_rfc3339("9999-12-31T23:59:59.999999Z").has_value());
    }

    void testRejectsWhatIsNotRfc3339() {
        for (const char *bad : {"",
                                "2026-11-26",
                                "2026-11-26T10:00:00",
                                "2026-11-26T10:00Z",
                                "2026-11-26T10:00:00+0100",
                                "2026-11-26T10:00:00+01",
                                "2026-11-26T10:00:00.Z",
                                "2026-11-26X10:00:00Z",
                                " 2026-11-26T10:00:00Z",
                                "2026-11-26T10:00:00Z ",
                                "2026-1-26T10:00:00Z",
                                "2026-11-26T10:00:00ZZ",
                                "2026-13-01T00:00:00Z",
                                "2026-00-01T00:00:00Z",
                                "2026-11-00T00:00:00Z",
                                "2026-11-31T00:00:00Z",
                                "2026-02-29T00:00:00Z",
                                "1900-02-29T00:00:00Z",
                                "2026-11-26T24:00:00Z",
                                "2026-11-26T10:60:00Z",
                                "2026-11-26T10:00:60Z",
                                "2026-11-26T10:00:00+24:00",
                                "2026-11-26T10:00:00+01:60",
                                "0000-01-01T00:00:00Z",
                                "0001-01-01T00:00:00+00:01",
                                "9999-12-31T23:59:59-00:01",
                                "+2026-11-26T10:00:00Z",
                                "2026-11-26T10:00:00.+01:00",
                                "now",
                                "1795687200"})
            CPPUNIT_ASSERT_MESSAGE(bad, !parse_rfc3339(bad).has_value());
    }

    void testFormatsRfc3339() {
        CPPUNIT_ASSERT_EQUAL(std::string("1970-01-01T00:00:00Z"), format_rfc3339(0));
        CPPUNIT_ASSERT_EQUAL(std::string("2026-11-26T10:00:00Z"),
                             format_rfc3339(at("2026-11-26T11:30:00+01:30")));
        CPPUNIT_ASSERT_EQUAL(std::string("2026-11-26T10:00:00.500000Z"),
                             format_rfc3339(at("2026-11-26T10:00:00.5Z")));
        CPPUNIT_ASSERT_EQUAL(std::string("1969-12-31T23:59:59.999999Z"), format_rfc3339(-1));
        for (const char *text : {"0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z",
                                 "2024-02-29T23:59:59Z", "1900-03-01T00:00:00.000001Z"})
            CPPUNIT_ASSERT_EQUAL(std::string(text), format_rfc3339(at(text)));
    }

    // cap_discount (pricing engines built on the SDK, e.g. examples/pricing-capped).
    void testCapsCombinedDiscount() {
        const PriceInput in = input(50000, 5000, 10, "GOLD");
        const Price p = compute_price(in, default_rules());  // 420.75: 23.5 % off 550.00
        // 20 %: never below 550.00 - 20 % = 440.00; total follows; the rules stay listed.
        const Price capped = cap_discount(in, p, 2000);
        CPPUNIT_ASSERT_EQUAL(std::string("440.00"), format_money(capped.unit_price));
        CPPUNIT_ASSERT_EQUAL(std::string("4400.00"), format_money(capped.total));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), capped.applied.size());
        // A cap above the combined discount changes nothing; 0 % means no discount at all.
        CPPUNIT_ASSERT_EQUAL(p.unit_price, cap_discount(in, p, 2500).unit_price);
        CPPUNIT_ASSERT_EQUAL(p.total, cap_discount(in, p, 10000).total);
        CPPUNIT_ASSERT_EQUAL(std::string("550.00"),
                             format_money(cap_discount(in, p, 0).unit_price));
        // A negative base + delta is priced at 0, capped or not.
        const PriceInput negative = input(1000, -2000, 1, "STANDARD");
        CPPUNIT_ASSERT_EQUAL(Cents(0),
                             cap_discount(negative, compute_price(negative, {}), 0).unit_price);
        CPPUNIT_ASSERT_THROW(cap_discount(in, p, -1), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(cap_discount(in, p, 10001), std::invalid_argument);
    }

    void testCapRoundsHalfUp() {
        // 100 % off 0.05 capped at 50 %: 2.5 cents rounds half-up to 0.03.
        const PriceInput in = input(5, 0, 3, "GOLD");
        const Price p = compute_price(in, {tier_rule(2, "GOLD", 10000)});
        CPPUNIT_ASSERT_EQUAL(Cents(0), p.unit_price);
        const Price capped = cap_discount(in, p, 5000);
        CPPUNIT_ASSERT_EQUAL(Cents(3), capped.unit_price);
        CPPUNIT_ASSERT_EQUAL(Cents(9), capped.total);
        // 12.5 % of 0.99 = 12.375 cents: the floor is 86.625 -> 0.87.
        const PriceInput small = input(99, 0, 1, "GOLD");
        const Price all_off = compute_price(small, {tier_rule(2, "GOLD", 10000)});
        CPPUNIT_ASSERT_EQUAL(Cents(87), cap_discount(small, all_off, 1250).unit_price);
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
    CPPUNIT_TEST(testPriceQueryTierGiven);
    CPPUNIT_TEST(testNewCustomerRule);
    CPPUNIT_TEST(testNewRuleRejectsCustomerShape);
    CPPUNIT_TEST(testNewRuleWindows);
    CPPUNIT_TEST(testNewRuleRejectsBadWindows);
    CPPUNIT_TEST(testRuleUpdateMergesThenValidates);
    CPPUNIT_TEST(testRuleUpdateChangesKind);
    CPPUNIT_TEST(testServiceInputCustomer);
    CPPUNIT_TEST(testDatabaseRefusals);
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

    void testPriceQueryTierGiven() {
        CPPUNIT_ASSERT(!parse_price_query(Query("quantity=3")).tier_given);
        const auto q = parse_price_query(Query("user_tier=STANDARD"));
        CPPUNIT_ASSERT(q.tier_given);
        CPPUNIT_ASSERT_EQUAL(std::string("STANDARD"), q.tier);
    }

    void testNewCustomerRule() {
        const auto r = new_rule(R"({"kind":"CUSTOMER","customer_id":7,"percent_off":"5"})");
        CPPUNIT_ASSERT(r.kind == RuleKind::customer);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(7), r.customer_id);
        CPPUNIT_ASSERT_EQUAL(BasisPoints(500), r.percent_off);
        CPPUNIT_ASSERT(r.tier.empty());
        CPPUNIT_ASSERT(!r.valid_from && !r.valid_until);
        const auto s = new_rule(
            R"({"kind":"CUSTOMER","customer_id":"9","percent_off":5,"tier":null,"min_quantity":null})");
        CPPUNIT_ASSERT_EQUAL(std::int64_t(9), s.customer_id);
        // Other kinds accept a null customer_id.
        CPPUNIT_ASSERT(
            new_rule(R"({"kind":"TIER","tier":"GOLD","percent_off":"5","customer_id":null})")
                .kind == RuleKind::tier);
    }

    void testNewRuleRejectsCustomerShape() {
        CPPUNIT_ASSERT(
            only(rule_errors(R"({"kind":"CUSTOMER","percent_off":"5"})"), "customer_id"));
        CPPUNIT_ASSERT(
            only(rule_errors(R"({"kind":"CUSTOMER","customer_id":null,"percent_off":"5"})"),
                 "customer_id"));
        for (const char *bad : {"0", "-1", R"("x")", "1.5", "true", "99999999999999999999"})
            CPPUNIT_ASSERT_MESSAGE(
                bad,
                only(rule_errors(
                         std::string(R"({"kind":"CUSTOMER","percent_off":"5","customer_id":)") +
                         bad + "}"),
                     "customer_id"));
        CPPUNIT_ASSERT(only(
            rule_errors(R"({"kind":"CUSTOMER","customer_id":7,"tier":"GOLD","percent_off":"5"})"),
            "tier"));
        CPPUNIT_ASSERT(
            only(rule_errors(
                     R"({"kind":"CUSTOMER","customer_id":7,"min_quantity":3,"percent_off":"5"})"),
                 "min_quantity"));
        CPPUNIT_ASSERT(
            only(rule_errors(
                     R"({"kind":"QUANTITY","min_quantity":3,"customer_id":7,"percent_off":"5"})"),
                 "customer_id"));
        CPPUNIT_ASSERT(
            only(rule_errors(R"({"kind":"TIER","tier":"GOLD","customer_id":7,"percent_off":"5"})"),
                 "customer_id"));
    }

    void testNewRuleWindows() {
        const auto r = new_rule(
            R"({"kind":"TIER","tier":"GOLD","percent_off":"5",)"
            R"("valid_from":"2026-12-01T00:00:00+01:00","valid_until":"2026-12-31T23:00:00Z"})");
        CPPUNIT_ASSERT_EQUAL(at("2026-11-30T23:00:00Z"), *r.valid_from);
        CPPUNIT_ASSERT_EQUAL(at("2026-12-31T23:00:00Z"), *r.valid_until);
        const auto open_end = new_rule(
            R"({"kind":"TIER","tier":"GOLD","percent_off":"5","valid_from":"2026-12-01T00:00:00Z","valid_until":null})");
        CPPUNIT_ASSERT(open_end.valid_from && !open_end.valid_until);
        const auto open_start = new_rule(
            R"({"kind":"TIER","tier":"GOLD","percent_off":"5","valid_until":"2026-12-01T00:00:00Z"})");
        CPPUNIT_ASSERT(!open_start.valid_from && open_start.valid_until);
        // One microsecond is a window.
        CPPUNIT_ASSERT(new_rule(R"({"kind":"TIER","tier":"GOLD","percent_off":"5",)"
                                R"("valid_from":"2026-12-01T00:00:00Z",)"
                                R"("valid_until":"2026-12-01T00:00:00.000001Z"})")
                           .valid_until.has_value());
    }

    void testNewRuleRejectsBadWindows() {
        const std::string head = R"({"kind":"TIER","tier":"GOLD","percent_off":"5",)";
        // Empty or reversed windows (offsets compared in UTC).
        for (const char *window :
             {R"("valid_from":"2026-12-01T00:00:00Z","valid_until":"2026-12-01T00:00:00Z")",
              R"("valid_from":"2026-12-02T00:00:00Z","valid_until":"2026-12-01T00:00:00Z")",
              R"("valid_from":"2026-12-01T00:30:00Z","valid_until":"2026-12-01T01:00:00+01:00")"})
            CPPUNIT_ASSERT_MESSAGE(window, only(rule_errors(head + window + "}"), "valid_until"));
        for (const char *bad : {R"("2026-12-01")", R"("2026-12-01T00:00:00")", R"("tomorrow")",
                                "1795687200", "true", "{}", "[]", R"("")"}) {
            CPPUNIT_ASSERT_MESSAGE(
                bad, only(rule_errors(head + R"("valid_from":)" + bad + "}"), "valid_from"));
            CPPUNIT_ASSERT_MESSAGE(
                bad, only(rule_errors(head + R"("valid_until":)" + bad + "}"), "valid_until"));
        }
        // Every error at once.
        const auto all = rule_errors(
            R"({"kind":"CUSTOMER","percent_off":"500","valid_from":"x","valid_until":"y"})");
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), all.size());
    }

    void testRuleUpdateMergesThenValidates() {
        Rule current =
            windowed(quantity_rule(4, 10, 1000), at("2026-01-01T00:00:00.000001Z"), std::nullopt);
        auto update = [&](const std::string &body) {
            return parse_rule_update(current, parse_json_object(body));
        };
        // Fields not in the body keep their values, to the microsecond.
        auto r = update(R"({"percent_off":"12.5"})");
        CPPUNIT_ASSERT_EQUAL(std::int64_t(4), r.id);
        CPPUNIT_ASSERT(r.kind == RuleKind::quantity);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(10), r.min_quantity);
        CPPUNIT_ASSERT_EQUAL(BasisPoints(1250), r.percent_off);
        CPPUNIT_ASSERT_EQUAL(*current.valid_from, *r.valid_from);
        CPPUNIT_ASSERT(!r.valid_until);
        // The id is not writable; unknown members are ignored, as DRF does.
        r = update(R"({"id":99,"colour":"red"})");
        CPPUNIT_ASSERT_EQUAL(std::int64_t(4), r.id);
        CPPUNIT_ASSERT_EQUAL(BasisPoints(1000), r.percent_off);
        // Closing the window; reopening it with null.
        r = update(R"({"valid_until":"2027-01-01T00:00:00Z","valid_from":null})");
        CPPUNIT_ASSERT(!r.valid_from);
        CPPUNIT_ASSERT_EQUAL(at("2027-01-01T00:00:00Z"), *r.valid_until);
        // The merged rule is what is validated: an end before the kept start is refused.
        CPPUNIT_ASSERT(
            only(rule_update_errors(current, R"({"valid_until":"2025-01-01T00:00:00Z"})"),
                 "valid_until"));
        CPPUNIT_ASSERT(only(rule_update_errors(current, R"({"min_quantity":0})"), "min_quantity"));
        CPPUNIT_ASSERT(only(rule_update_errors(current, R"({"percent_off":null})"), "percent_off"));
        CPPUNIT_ASSERT(only(rule_update_errors(current, R"({"tier":"GOLD"})"), "tier"));
    }

    void testRuleUpdateChangesKind() {
        const Rule current = quantity_rule(4, 10, 1000);
        // A TIER rule carries no min_quantity: the body must clear it.
        CPPUNIT_ASSERT(only(rule_update_errors(current, R"({"kind":"TIER","tier":"SILVER"})"),
                            "min_quantity"));
        auto r = parse_rule_update(
            current, parse_json_object(R"({"kind":"TIER","tier":"SILVER","min_quantity":null})"));
        CPPUNIT_ASSERT(r.kind == RuleKind::tier);
        CPPUNIT_ASSERT_EQUAL(std::string("SILVER"), r.tier);
        CPPUNIT_ASSERT_EQUAL(BasisPoints(1000), r.percent_off);
        r = parse_rule_update(
            current,
            parse_json_object(R"({"kind":"CUSTOMER","customer_id":5,"min_quantity":null})"));
        CPPUNIT_ASSERT(r.kind == RuleKind::customer);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(5), r.customer_id);
        // A CUSTOMER rule turned TIER: tier missing and customer_id left over, both reported.
        const auto e = rule_update_errors(customer_rule(6, 5, 500), R"({"kind":"TIER"})");
        CPPUNIT_ASSERT(e.count("tier") && e.count("customer_id") && e.size() == 2);
        CPPUNIT_ASSERT(only(rule_update_errors(current, R"({"kind":"BULK"})"), "kind"));
    }

    void testServiceInputCustomer() {
        CPPUNIT_ASSERT(!parse_service_input(R"({"variant_id":1})").customer_id);
        CPPUNIT_ASSERT(!parse_service_input(R"({"variant_id":1,"customer_id":null})").customer_id);
        CPPUNIT_ASSERT_EQUAL(
            std::int64_t(7),
            *parse_service_input(R"({"variant_id":1,"customer_id":7})").customer_id);
        CPPUNIT_ASSERT_EQUAL(
            std::int64_t(7),
            *parse_service_input(R"({"variant_id":1,"customer_id":"7"})").customer_id);
        for (const char *bad : {"0", "-7", R"("x")", "1.5", "[]"})
            CPPUNIT_ASSERT_MESSAGE(
                bad,
                only(service_errors(std::string(R"({"variant_id":1,"customer_id":)") + bad + "}"),
                     "customer_id"));
        // The route takes no customer from its query: the token names the customer.
        CPPUNIT_ASSERT(parse_price_query(Query("customer_id=abc")).quantity == 1);
    }

    void testDatabaseRefusals() {
        auto fields = [](const ClientError &e) {
            CPPUNIT_ASSERT_EQUAL(400, e.status);
            return e.errors;
        };
        CPPUNIT_ASSERT(only(fields(overlapping_rule(quantity_rule(1, 10, 1000))), "min_quantity"));
        CPPUNIT_ASSERT(only(fields(overlapping_rule(tier_rule(1, "GOLD", 1000))), "tier"));
        CPPUNIT_ASSERT(only(fields(overlapping_rule(customer_rule(1, 7, 1000))), "customer_id"));
        const auto e = fields(unknown_customer(42));
        CPPUNIT_ASSERT(only(e, "customer_id"));
        CPPUNIT_ASSERT_EQUAL(std::string("Invalid pk \"42\" - object does not exist."),
                             e.at("customer_id").at(0));
    }
};

class PricingRenderTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PricingRenderTest);
    CPPUNIT_TEST(testPriceJson);
    CPPUNIT_TEST(testPriceJsonWithoutVariant);
    CPPUNIT_TEST(testPriceJsonListsCustomerRule);
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

    void testPriceJsonListsCustomerRule() {
        std::vector<Rule> rules = default_rules();
        rules.push_back(customer_rule(3, 7, 1000));
        const Quote q = make_quote(3, 9, customer_input(50000, 5000, 10, "GOLD", 7), rules);
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"({"product_id":3,"variant_id":9,"quantity":10,"user_tier":"GOLD","base_price":"500.00",)"
                R"("variant_adjustment":"50.00","unit_price":"378.68","total":"3786.80","applied_rules":[)"
                R"({"id":1,"kind":"QUANTITY","percent_off":"10"},{"id":2,"kind":"TIER","percent_off":"15"},)"
                R"({"id":3,"kind":"CUSTOMER","percent_off":"10"}],"engine":"pricing/1.0.0"})"),
            price_json(q, "pricing/1.0.0"));
    }

    void testRuleJson() {
        auto json = [](const Rule &r) {
            return render_json([&](JsonWriter &w) { write_rule(w, r); });
        };
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"({"id":4,"kind":"QUANTITY","min_quantity":10,"tier":null,)"
                R"("customer_id":null,"percent_off":"12.5","valid_from":null,"valid_until":null})"),
            json(quantity_rule(4, 10, 1250)));
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"({"id":5,"kind":"TIER","min_quantity":null,"tier":"GOLD",)"
                R"("customer_id":null,"percent_off":"15","valid_from":null,"valid_until":null})"),
            json(tier_rule(5, "GOLD", 1500)));
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"({"id":6,"kind":"TIER","min_quantity":null,"tier":"SILVER",)"
                R"("customer_id":null,"percent_off":"0.05","valid_from":null,"valid_until":null})"),
            json(tier_rule(6, "SILVER", 5)));
        // A window is shown in UTC, whatever offset it was given with.
        CPPUNIT_ASSERT_EQUAL(
            std::string(R"({"id":7,"kind":"CUSTOMER","min_quantity":null,"tier":null,)"
                        R"("customer_id":42,"percent_off":"5","valid_from":"2026-11-26T10:00:00Z",)"
                        R"("valid_until":"2027-01-01T00:00:00.250000Z"})"),
            json(windowed(customer_rule(7, 42, 500), at("2026-11-26T11:00:00+01:00"),
                          at("2027-01-01T00:00:00.25Z"))));
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
                R"("results":[{"id":1,"kind":"QUANTITY","min_quantity":10,"tier":null,"customer_id":null,)"
                R"("percent_off":"10","valid_from":null,"valid_until":null}]})"),
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
