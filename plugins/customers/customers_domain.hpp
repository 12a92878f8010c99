// customers plugin: domain functions (validation, rendering) shared with its unit tests; nothing
// here touches the database.
#pragma once

#include "shopd/commerce.hpp"
#include "shopd/json.hpp"

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>

namespace shopd::customers {

struct NewCustomer {
    std::string name;
    std::string tier = kDefaultTier;
};

/// Validates a POST /api/customers/ body; throws a 400 ClientError listing every bad field.
NewCustomer parse_new_customer(const rapidjson::Value &body);

/// The 201 answer to POST /api/customers/: the customer and its token. The create and the token
/// rotations are the only answers that show a token; the database keeps just its hash.
std::string render_created_customer(std::int64_t id, const NewCustomer &customer,
                                    const std::string &token);

/// A customer as the admin reads it: never its token nor the token's hash.
struct CustomerView {
    std::int64_t id = 0;
    std::string name;
    std::string tier;
};

/// A PATCH /api/customers/<id>/ body: the fields it sets (absent = unchanged).
struct CustomerPatch {
    std::optional<std::string> name;
    std::optional<std::string> tier;
};

/// Validates a PATCH /api/customers/<id>/ body as DRF's partial update does: each field present
/// is checked like POST's, null is refused (neither column is nullable), unknown fields are
/// ignored and {} changes nothing. Throws a 400 ClientError listing every bad field.
CustomerPatch parse_customer_patch(const rapidjson::Value &body);

/// {"id","name","tier"}.
void write_customer(JsonWriter &w, const CustomerView &customer);
std::string render_customer(const CustomerView &customer);

/// The 201 answer to a token rotation: {"token"}.
std::string render_token(const std::string &token);

}  // namespace shopd::customers
