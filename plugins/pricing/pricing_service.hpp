// pricing plugin: the "price" service other plugins call through the host (input parsing and
// output rendering, no database; the handler is in pricing_plugin.cpp).
//
// Other plugins never include this header: they only see the JSON below, through
// `ctx.call_service(tx, "price", input)` (host -> pricing `serve`). The call runs inside the
// caller's transaction `tx`, so the price is read from the same snapshot/locks as the caller's
// other reads. It prices exactly as GET /api/pricing/{product_id}/price/ does (same maths,
// same queries), for a variant.
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
#pragma once

#include "pricing.hpp"

#include <string>
#include <string_view>

namespace shopd::pricing {

/// Name of the service in the descriptor and in call_service().
constexpr const char *kPriceService = "price";

/// A validated "price" service input.
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
