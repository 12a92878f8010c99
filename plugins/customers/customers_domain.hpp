// customers plugin: domain functions (validation, rendering) shared with its unit tests; nothing
// here touches the database.
#pragma once

#include "shopd/commerce.hpp"
#include "shopd/json.hpp"

#include <rapidjson/document.h>

#include <cstdint>
#include <string>

namespace shopd::customers {

struct NewCustomer {
    std::string name;
    std::string tier = kDefaultTier;
};

/// Validates a POST /api/customers/ body; throws a 400 ClientError listing every bad field.
NewCustomer parse_new_customer(const rapidjson::Value &body);

/// The 201 answer to POST /api/customers/: the customer and its token. This is the only place
/// the token is ever shown; the database keeps just its hash.
std::string render_created_customer(std::int64_t id, const NewCustomer &customer,
                                    const std::string &token);

}  // namespace shopd::customers
