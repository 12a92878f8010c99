// Fixtures for the integration tests of more than one plugin: customers and products created
// through the API (admin), each with names unique to the run.
#pragma once

#include "http_client.hpp"

#include <string>
#include <utility>
#include <vector>

namespace shopd::test {

/// A customer as created through the API: its id and its (only shown once) token.
struct NewCustomer {
    long long id = 0;
    std::string token;
};

/// A fresh customer, with its id (for the admin's ?customer= and for SQL).
NewCustomer new_customer_with_id(Http &http, const std::string &tier = "STANDARD");

/// A fresh customer's token.
std::string new_customer(Http &http, const std::string &tier = "STANDARD");

/// A product as created through the API: its id and its variants' ids, in order.
struct NewProduct {
    long long id = 0;
    std::vector<long long> variants;
};

/// A product (base 500.00) in a fresh category, with variants {price_delta, stock}; the names of
/// the category and product and the SKUs start with `tag`.
NewProduct new_product(Http &http, const std::vector<std::pair<std::string, int>> &variants,
                       const std::string &tag);

}  // namespace shopd::test
