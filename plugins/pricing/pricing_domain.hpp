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

enum class RuleKind { quantity, tier, customer };

/// "QUANTITY" / "TIER" / "CUSTOMER", the spelling of pricing_rules.kind and of the API.
const char *kind_name(RuleKind kind);
/// The kind spelled `text`, or nullopt.
std::optional<RuleKind> parse_kind(std::string_view text);

/// An instant as microseconds since 1970-01-01T00:00:00Z: the precision of a timestamptz.
using Micros = std::int64_t;

/// Parses an RFC 3339 date-time with its offset ("2026-11-26T10:00:00Z",
/// "2026-11-26T11:00:00.5+01:00"; 'T', 't' or ' ' between date and time; digits past the sixth
/// decimal are dropped, as PostgreSQL and Django keep microseconds) into UTC. nullopt for
/// anything else: no offset, an impossible date, a leap second, a UTC year outside 1..9999.
std::optional<Micros> parse_rfc3339(std::string_view text);
/// RFC 3339 in UTC with a 'Z': whole seconds, or six decimals when the instant has a fraction
/// (as DRF renders datetimes): "2026-11-26T10:00:00Z", "2026-11-26T10:00:00.500000Z".
std::string format_rfc3339(Micros instant);

/// One row of pricing_rules.
struct Rule {
    std::int64_t id = 0;
    RuleKind kind = RuleKind::quantity;
    std::int64_t min_quantity = 0;  ///< QUANTITY rules only
    std::string tier;               ///< TIER rules only
    BasisPoints percent_off = 0;
    std::int64_t customer_id = 0;       ///< CUSTOMER rules only
    std::optional<Micros> valid_from;   ///< none: valid since ever
    std::optional<Micros> valid_until;  ///< none: valid for ever; else valid before this instant

    /// Whether the rule counts at `instant`: valid_from <= instant < valid_until.
    bool valid_at(Micros instant) const;
};

// ---- the price ------------------------------------------------------------------------------

/// What a price depends on. Amounts come from NUMERIC(12,2) columns.
struct PriceInput {
    Cents base_price = 0;
    Cents variant_delta = 0;
    std::int64_t quantity = 1;
    std::string tier = kDefaultTier;
    /// The customer whose CUSTOMER rule applies; none for an anonymous quote.
    std::optional<std::int64_t> customer_id;
    /// When the price is asked: only rules valid at this instant count. The plugin passes the
    /// database's now(), the instant its SQL picked the rules at.
    Micros at = 0;
};

/// A computed price.
struct Price {
    Cents unit_price = 0;
    /// unit_price * quantity; may need more than 12 digits (it is only rendered, never stored
    /// in a NUMERIC(12,2)), and always fits: 2e12 cents * 10000 < 2^63.
    Cents total = 0;
    /// The rules that were applied, in the order they were: quantity rule, tier rule, customer
    /// rule.
    std::vector<Rule> applied;
};

/// Among the rules valid at `at`: the QUANTITY rule with the highest min_quantity <= quantity,
/// or nullptr.
const Rule *quantity_rule_for(const std::vector<Rule> &rules, std::int64_t quantity, Micros at);
/// Among the rules valid at `at`: the TIER rule of `tier`, or nullptr.
const Rule *tier_rule_for(const std::vector<Rule> &rules, std::string_view tier, Micros at);
/// Among the rules valid at `at`: the CUSTOMER rule of that customer, or nullptr.
const Rule *customer_rule_for(const std::vector<Rule> &rules, std::int64_t customer_id, Micros at);

/// Prices `in` under `rules` (any superset of the applicable ones), as the contract orders it:
/// base + delta; then the quantity rule; then the tier rule; then the rule of in.customer_id;
/// only rules valid at in.at count; half-up to the cent after each step; total = unit * quantity. A
/// negative base + delta (a large negative variant delta) is priced at 0: a sale never pays the
/// buyer. Throws std::invalid_argument when the input is outside what the API can send (quantity
/// not in 1..10000, an amount beyond NUMERIC(12,2), an unknown tier), which is what guarantees the
/// arithmetic cannot overflow.
Price compute_price(const PriceInput &in, const std::vector<Rule> &rules);

/// Caps the combined discount of all rules at `max_discount` (0..10000 basis points): the unit
/// price never goes below the undiscounted unit price (base + delta, 0 if negative) less
/// max_discount percent, rounded half-up to the cent (apply_percent_off); total follows. The
/// applied rules stay listed. Throws std::invalid_argument for a cap outside 0..100 %.
Price cap_discount(const PriceInput &in, Price price, BasisPoints max_discount);

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
    /// Whether ?user_tier= was given: a customer's quote defaults to the customer's tier instead.
    bool tier_given = false;
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
/// listing every bad field. QUANTITY rules need min_quantity, TIER rules tier, CUSTOMER rules
/// customer_id, and each carries neither of the other two (null counts as absent).
/// valid_from / valid_until are RFC 3339 or null (open); valid_from must be before valid_until.
/// Whether the customer exists and whether the window overlaps another rule's is the database's
/// to say (see unknown_customer, overlapping_rule).
Rule parse_new_rule(const rapidjson::Value &body);

/// The rule a PATCH body makes of `current`: the body's members replace the rule's fields and
/// the result is validated as a whole, as parse_new_rule does (so turning a QUANTITY rule into
/// a TIER rule also needs "min_quantity": null). Keeps current.id.
Rule parse_rule_update(const Rule &current, const rapidjson::Value &body);

/// The 400 of a rule whose key (kind and min_quantity / tier / customer_id) already has a rule
/// valid during part of its window (the exclusion constraints' 23P01).
ClientError overlapping_rule(const Rule &rule);
/// The 400 of a CUSTOMER rule naming no customer (the foreign key's 23503).
ClientError unknown_customer(std::int64_t customer_id);

/// A rule as the API shows it: {"id","kind","min_quantity","tier","customer_id","percent_off",
/// "valid_from","valid_until"}, with nulls where a field does not apply or a window is open
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
//    "tier": "GOLD",          optional, STANDARD|SILVER|GOLD|PLATINUM, default STANDARD
//    "customer_id": 7}        optional, a customer id: that customer's CUSTOMER rule applies
//                             (after the TIER step); absent or null: no CUSTOMER rule. The tier
//                             is not looked up from it: the caller sends both.
//
// Only rules valid at the caller's transaction's now() count (valid_from <= now() < valid_until).
//
// Output, status 200 (application/json):
//   {"product_id": 7, "variant_id": 42, "quantity": 10, "tier": "GOLD",
//    "unit_price": "420.75", "total": "4207.50", "engine": "pricing/1.0.0"}
//   Money is a two-decimal string; total = unit_price * quantity and may exceed NUMERIC(12,2)
//   (it is for display; a caller storing it must check). unit_price fits NUMERIC(12,2), >= 0.
//
// Errors (application/problem+json, {"type","title","status","detail"[,"errors"]}):
//   400  input is not a JSON object, or a field is invalid: "errors" names the fields
//        (variant_id, quantity, tier, customer_id) with DRF-style messages;
//   404  no variant has that id, or the variant or its product is archived;
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
    std::optional<std::int64_t> customer_id;
};

/// Parses and validates the input JSON; throws a 400 ClientError (fields: variant_id, quantity,
/// tier, customer_id) otherwise.
ServiceInput parse_service_input(std::string_view body);

/// The 200 output JSON for `quote` (its variant_id must be set).
std::string service_price_json(const Quote &quote, std::string_view engine);

}  // namespace shopd::pricing
