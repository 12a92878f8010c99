// cart plugin: the cart's pure logic, shared with its unit tests (validation, totals, JSON, and
// how a failed price is answered).
#pragma once

#include "shopd/json.hpp"
#include "shopd/money.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace shopd::cart {

/// A POST /api/cart/items/ body: a variant, or a product that has exactly one variant.
struct AddItem {
    std::optional<std::int64_t> variant_id;
    std::optional<std::int64_t> product_id;
    std::int64_t quantity = 0;
};

/// Validates POST /api/cart/items/; throws a 400 ClientError listing every bad field.
AddItem parse_add_item(const rapidjson::Value &body);
/// Validates PATCH /api/cart/items/<id>/ ({"quantity"}).
std::int64_t parse_quantity_update(const rapidjson::Value &body);

struct Line {
    std::int64_t id = 0;
    std::int64_t variant_id = 0;
    std::int64_t product_id = 0;
    std::int64_t quantity = 0;
    Cents unit_price = 0;
    Cents line_total() const { return unit_price * quantity; }
};

/// Writes one line as the contract's item object.
void write_line(JsonWriter &w, const Line &line);
/// Renders the cart: {"id","items","item_count","total"}; item_count counts units.
std::string render_cart(std::int64_t cart_id, const std::vector<Line> &lines);

/// Reads unit_price from a pricing service reply body; nullopt if it is not a valid reply.
std::optional<Cents> unit_price_from_reply(const std::string &body);

/// What the cart answers when the price service answered `service_status` instead of 200.
/// A 409 (lock or serialization conflict) or 503 (database down) is passed through, with its
/// Retry-After, because the same request can succeed later; any other server fault of the
/// service is a 503 as well. Everything else (400, 404: the service refused this variant or
/// quantity) means the item cannot be priced: 400.
int unpriced_status(int service_status);

}  // namespace shopd::cart
