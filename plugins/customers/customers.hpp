// customers plugin: domain functions (validation) shared with its unit tests.
#pragma once

#include <rapidjson/document.h>

#include <string>

namespace shopd::customers {

struct NewCustomer {
    std::string name;
    std::string tier = "STANDARD";
};

/// Validates a POST /api/customers/ body; throws a 400 ClientError listing every bad field.
NewCustomer parse_new_customer(const rapidjson::Value &body);

}  // namespace shopd::customers
