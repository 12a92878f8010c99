#include "store_fixtures.hpp"

#include <cppunit/extensions/HelperMacros.h>

namespace shopd::test {

NewCustomer new_customer_with_id(Http &http, const std::string &tier) {
    const auto r =
        http.post("/api/customers/",
                  "{\"name\":\"" + unique("cust") + "\",\"tier\":\"" + tier + "\"}", admin_token());
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201L, r.status);
    const auto d = r.json();
    return {d["id"].GetInt64(), d["token"].GetString()};
}

std::string new_customer(Http &http, const std::string &tier) {
    return new_customer_with_id(http, tier).token;
}

NewProduct new_product(Http &http, const std::vector<std::pair<std::string, int>> &variants,
                       const std::string &tag) {
    auto cat =
        http.post("/api/categories/", "{\"name\":\"" + unique(tag + "-cat") + "\"}", admin_token());
    CPPUNIT_ASSERT_EQUAL_MESSAGE(cat.describe(), 201L, cat.status);
    std::string body = "{\"name\":\"" + unique(tag + "-product") +
                       "\",\"category_id\":" + std::to_string(cat.json()["id"].GetInt64()) +
                       ",\"base_price\":\"500.00\",\"variants\":[";
    for (std::size_t i = 0; i < variants.size(); ++i)
        body += (i ? "," : "") + std::string("{\"sku\":\"") + unique(tag + "-SKU") +
                "\",\"name\":\"v" + std::to_string(i) + "\",\"price_delta\":\"" +
                variants[i].first + "\",\"stock\":" + std::to_string(variants[i].second) + "}";
    body += "]}";
    const auto r = http.post("/api/products/", body, admin_token());
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201L, r.status);
    const auto d = r.json();  // named: a temporary would die before the loop body runs
    NewProduct p;
    p.id = d["id"].GetInt64();
    for (const auto &v : d["variants"].GetArray()) p.variants.push_back(v["id"].GetInt64());
    return p;
}

}  // namespace shopd::test
