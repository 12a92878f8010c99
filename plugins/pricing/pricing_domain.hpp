// The standard pricing rules: how a price is computed from a base price, a variant's delta and
// the pricing rules, how the pricing API's input is validated and how its answers are rendered.
// Pure: no database and no plugin edge, so unit tests link it alone and another pricing engine
// can price, validate and answer exactly as the pricing plugin does.
#pragma once

#include "shopd/commerce.hpp"
#include "shopd/http.hpp"
#include "shopd/json.hpp"
#include "shopd/money.hpp"

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shopd::pricing {

// ---- rules ----------------------------------------------------------------------------------

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

// ---- the price ------------------------------------------------------------------------------

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

/// Everything a price answer shows: what was asked and what it costs.
struct Quote {
    std::int64_t product_id = 0;
    std::optional<std::int64_t> variant_id;
    PriceInput input;
    Price price;
};

/// The quote of `input` under `rules` (compute_price's rules and exceptions).
Quote make_quote(std::int64_t product_id, std::optional<std::int64_t> variant_id, PriceInput input,
                 const std::vector<Rule> &rules);

// ---- GET /api/pricing/{product_id}/price/ ---------------------------------------------------

/// The query of the price route.
struct PriceQuery {
    std::optional<std::int64_t> variant_id;
    std::int64_t quantity = 1;
    std::string tier = kDefaultTier;
};

/// Validates ?quantity= (1..10000, default 1), ?user_tier= (default STANDARD) and ?variant_id=;
/// throws a 400 ClientError naming every bad parameter. A parameter given empty is invalid.
PriceQuery parse_price_query(const Query &query);

/// The answer: the contract's fields, `engine` = "<plugin name>/<version>".
std::string price_json(const Quote &quote, std::string_view engine);

/// The 400 of a ?variant_id= that names no variant at all.
ClientError unknown_variant(std::int64_t variant_id);
/// The 400 of a ?variant_id= that names a variant of another product.
ClientError foreign_variant(std::int64_t variant_id, std::int64_t product_id);

// ---- /api/pricing/rules/ --------------------------------------------------------------------

/// Validates a POST /api/pricing/rules/ body into a rule (id 0); throws a 400 ClientError
/// listing every bad field. QUANTITY rules need min_quantity and carry no tier; TIER rules need
/// tier and carry no min_quantity (null counts as absent).
Rule parse_new_rule(const rapidjson::Value &body);

/// A rule as the API shows it: {"id","kind","min_quantity","tier","percent_off"} with nulls
/// (one rule, or one item of the rules page).
void write_rule(JsonWriter &w, const Rule &rule);

// ---- the "price" service --------------------------------------------------------------------
// What other plugins call through the host: `ctx.call_service(tx, "price", input)`. The call runs
// inside the caller's transaction `tx`, so the price is read from the same snapshot and locks as
// the caller's other reads. It prices exactly as the price route does, for a variant.
//
// Input (a JSON object; numbers may also be sent as strings):
//   {"variant_id": 42,        required, a variant id
//    "quantity": 10,          optional, integer 1..10000, default 1
//    "tier": "GOLD"}          optional, STANDARD|SILVER|GOLD|PLATINUM, default STANDARD
//
// Output, status 200 (application/json):
//   {"product_id": 7, "variant_id": 42, "quantity": 10, "tier": "GOLD",
//    "unit_price": "420.75", "total": "4207.50", "engine": "pricing/1.0.0"}
//   Money is a two-decimal string; total = unit_price * quantity and may exceed NUMERIC(12,2)
//   (it is for display; a caller storing it must check). unit_price fits NUMERIC(12,2), >= 0.
//
// Errors (application/problem+json, {"type","title","status","detail"[,"errors"]}):
//   400  input is not a JSON object, or a field is invalid: "errors" names the fields
//        (variant_id, quantity, tier) with DRF-style messages;
//   404  no variant has that id;
//   409/503 (with Retry-After) or 500: database trouble, as for any handler. After one of
//        these the caller's transaction is unusable (the query failed inside it).
// call_service itself returns nullopt when no loaded plugin offers "price".

/// Name of the service in the plugin's declaration and in call_service().
constexpr const char *kPriceService = "price";

/// A validated service input.
struct ServiceInput {
    std::int64_t variant_id = 0;
    std::int64_t quantity = 1;
    std::string tier = kDefaultTier;
};

/// Parses and validates the input JSON; throws a 400 ClientError (fields: variant_id, quantity,
/// tier) otherwise.
ServiceInput parse_service_input(std::string_view body);

/// The 200 output JSON for `quote` (its variant_id must be set).
std::string service_price_json(const Quote &quote, std::string_view engine);

}  // namespace shopd::pricing
