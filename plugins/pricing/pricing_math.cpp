// pricing plugin: exact price computation in integer cents.
#include "pricing_math.hpp"

#include <stdexcept>

namespace shopd::pricing {

bool is_known_tier(std::string_view tier) {
    return tier == "STANDARD" || tier == "SILVER" || tier == "GOLD" || tier == "PLATINUM";
}

const char *kind_name(RuleKind kind) { return kind == RuleKind::quantity ? "QUANTITY" : "TIER"; }

std::optional<RuleKind> parse_kind(std::string_view text) {
    if (text == "QUANTITY") return RuleKind::quantity;
    if (text == "TIER") return RuleKind::tier;
    return std::nullopt;
}

const Rule *quantity_rule_for(const std::vector<Rule> &rules, std::int64_t quantity) {
    const Rule *best = nullptr;
    for (const auto &r : rules) {
        if (r.kind != RuleKind::quantity || r.min_quantity > quantity) continue;
        if (!best || r.min_quantity > best->min_quantity) best = &r;
    }
    return best;
}

const Rule *tier_rule_for(const std::vector<Rule> &rules, std::string_view tier) {
    for (const auto &r : rules)
        if (r.kind == RuleKind::tier && r.tier == tier) return &r;
    return nullptr;
}

namespace {

bool within_numeric_12_2(Cents c) { return c >= -kMaxNumeric12_2 && c <= kMaxNumeric12_2; }

void check_input(const PriceInput &in) {
    if (in.quantity < kMinQuantity || in.quantity > kMaxQuantity)
        throw std::invalid_argument("quantity " + std::to_string(in.quantity) + " outside 1..10000");
    if (in.base_price < 0 || !within_numeric_12_2(in.base_price) || !within_numeric_12_2(in.variant_delta))
        throw std::invalid_argument("amount outside NUMERIC(12,2)");
    if (!is_known_tier(in.tier)) throw std::invalid_argument("unknown tier " + in.tier);
}

}  // namespace

Price compute_price(const PriceInput &in, const std::vector<Rule> &rules) {
    check_input(in);
    Price out;
    Cents unit = in.base_price + in.variant_delta;
    if (unit < 0) unit = 0;
    // Each step rounds (apply_percent_off is half-up to the cent), so two rules are not one
    // combined percentage: 550.00 -10% = 495.00, -15% = 420.75 (not 550.00 * 0.765).
    for (const Rule *rule : {quantity_rule_for(rules, in.quantity), tier_rule_for(rules, in.tier)}) {
        if (!rule) continue;
        if (rule->percent_off < 0 || rule->percent_off > 10000)
            throw std::invalid_argument("rule " + std::to_string(rule->id) + ": percent_off outside 0..100");
        unit = apply_percent_off(unit, rule->percent_off);
        out.applied.push_back(*rule);
    }
    out.unit_price = unit;
    out.total = unit * in.quantity;
    return out;
}

}  // namespace shopd::pricing
