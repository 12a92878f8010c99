// pricing plugin: the price computation itself (no database, no JSON), shared by the HTTP
// route, the "price" service and the unit tests.
#pragma once

#include "shopd/money.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shopd::pricing {

/// Quantities a price can be asked for (the contract's 1..10000).
constexpr std::int64_t kMinQuantity = 1;
constexpr std::int64_t kMaxQuantity = 10000;

/// Customer tiers, as the CHECK constraints of customers and pricing_rules list them.
constexpr const char *kDefaultTier = "STANDARD";
bool is_known_tier(std::string_view tier);

enum class RuleKind { quantity, tier };

/// "QUANTITY" / "TIER", the spelling of pricing_rules.kind and of the API.
const char *kind_name(RuleKind kind);
/// The kind spelled `text`, or nullopt.
std::optional<RuleKind> parse_kind(std::string_view text);

/// One row of pricing_rules.
struct Rule {
    std::int64_t id = 0;
    RuleKind kind = RuleKind::quantity;
    std::int64_t min_quantity = 0;  ///< QUANTITY rules only
    std::string tier;               ///< TIER rules only
    BasisPoints percent_off = 0;
};

/// What a price depends on. Amounts come from NUMERIC(12,2) columns.
struct PriceInput {
    Cents base_price = 0;
    Cents variant_delta = 0;
    std::int64_t quantity = 1;
    std::string tier = kDefaultTier;
};

/// A computed price.
struct Price {
    Cents unit_price = 0;
    /// unit_price * quantity; may need more than 12 digits (it is only rendered, never stored
    /// in a NUMERIC(12,2)), and always fits: 2e12 cents * 10000 < 2^63.
    Cents total = 0;
    /// The rules that were applied, in the order they were: quantity rule, then tier rule.
    std::vector<Rule> applied;
};

/// The QUANTITY rule with the highest min_quantity <= quantity, or nullptr.
const Rule *quantity_rule_for(const std::vector<Rule> &rules, std::int64_t quantity);
/// The TIER rule of `tier`, or nullptr.
const Rule *tier_rule_for(const std::vector<Rule> &rules, std::string_view tier);

/// Prices `in` under `rules` (any superset of the applicable ones), as the contract orders it:
/// base + delta; then the quantity rule; then the tier rule; half-up to the cent after each
/// step; total = unit * quantity. A negative base + delta (a large negative variant delta) is
/// priced at 0: a sale never pays the buyer. Throws std::invalid_argument when the input is
/// outside what the API can send (quantity not in 1..10000, an amount beyond NUMERIC(12,2),
/// an unknown tier), which is what guarantees the arithmetic cannot overflow.
Price compute_price(const PriceInput &in, const std::vector<Rule> &rules);

}  // namespace shopd::pricing
