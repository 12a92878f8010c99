// pricing plugin: request validation and response rendering for the HTTP routes (no database),
// shared with the unit tests.
#pragma once

#include "pricing_math.hpp"

#include "shopd/http.hpp"
#include "shopd/json.hpp"

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shopd::pricing {

/// Reads a tier (STANDARD, SILVER, GOLD, PLATINUM) through `f`; nullopt when absent or invalid
/// (an invalid one is recorded as an error of `key`).
std::optional<std::string> tier_field(Fields &f, const char *key, bool required);

/// Query of GET /api/pricing/{id}/price/.
struct PriceQuery {
    std::int64_t quantity = 1;
    std::string tier = kDefaultTier;
    std::optional<std::int64_t> variant_id;
};

/// Validates ?quantity= (1..10000, default 1), ?user_tier= (default STANDARD) and ?variant_id=;
/// throws a 400 ClientError naming every bad parameter. A parameter given empty is invalid.
PriceQuery parse_price_query(const Query &query);

/// Validates a POST /api/pricing/rules/ body into a rule (id 0); throws a 400 ClientError
/// listing every bad field. QUANTITY rules need min_quantity and carry no tier; TIER rules need
/// tier and carry no min_quantity (null counts as absent).
Rule parse_new_rule(const rapidjson::Value &body);

/// A rule as the API shows it: {"id","kind","min_quantity","tier","percent_off"} with nulls.
void write_rule(JsonWriter &w, const Rule &rule);

/// A page of GET /api/pricing/rules/ in the DRF envelope {"count","next","previous","results"}.
std::string rules_page_json(std::int64_t count, const std::optional<std::string> &next,
                            const std::optional<std::string> &previous, const std::vector<Rule> &rules);

/// Everything a price response shows.
struct Quote {
    std::int64_t product_id = 0;
    std::optional<std::int64_t> variant_id;
    PriceInput input;
    Price price;
};

/// Body of GET /api/pricing/{id}/price/: the contract's fields, `engine` = "pricing/<version>".
std::string price_json(const Quote &quote, std::string_view engine);

/// The error of a variant_id that names no variant of the product (400, on field variant_id).
ClientError unknown_variant(std::int64_t variant_id);
ClientError foreign_variant(std::int64_t variant_id, std::int64_t product_id);

}  // namespace shopd::pricing
