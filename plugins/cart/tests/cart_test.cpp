// Unit tests of the cart plugin's validation, totals and service-reply handling.
#include "cart_domain.hpp"

#include <cppunit/extensions/HelperMacros.h>

using namespace shopd;
using namespace shopd::cart;

namespace {
FieldErrors errors_of(const char *json, bool patch = false) {
    try {
        const auto doc = parse_json_object(json);
        if (patch)
            parse_quantity_update(doc);
        else
            parse_add_item(doc);
    } catch (const ClientError &e) {
        CPPUNIT_ASSERT_EQUAL(400, e.status);
        return e.errors;
    }
    return {};
}
}  // namespace

class CartTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CartTest);
    CPPUNIT_TEST(acceptsVariantOrProduct);
    CPPUNIT_TEST(rejectsBadQuantities);
    CPPUNIT_TEST(needsExactlyOneTarget);
    CPPUNIT_TEST(totalsAreExact);
    CPPUNIT_TEST(readsServiceReply);
    CPPUNIT_TEST(passesRetryableServiceStatusesThrough);
    CPPUNIT_TEST_SUITE_END();

public:
    void acceptsVariantOrProduct() {
        auto a = parse_add_item(parse_json_object("{\"variant_id\": 7, \"quantity\": 3}"));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(7), *a.variant_id);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(3), a.quantity);
        a = parse_add_item(parse_json_object("{\"product_id\": \"9\", \"quantity\": 10000}"));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(9), *a.product_id);
        CPPUNIT_ASSERT(!a.variant_id);
    }

    void rejectsBadQuantities() {
        for (const char *q : {"0", "-1", "10001", "\"abc\"", "1.5", "true", "null"}) {
            const auto e =
                errors_of((std::string("{\"variant_id\": 1, \"quantity\": ") + q + "}").c_str());
            CPPUNIT_ASSERT_MESSAGE(q, e.count("quantity") == 1);
        }
        CPPUNIT_ASSERT(errors_of("{}", true).count("quantity") == 1);
        CPPUNIT_ASSERT(errors_of("{\"quantity\": 0}", true).count("quantity") == 1);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(4),
                             parse_quantity_update(parse_json_object("{\"quantity\": 4}")));
    }

    void needsExactlyOneTarget() {
        CPPUNIT_ASSERT(errors_of("{\"quantity\": 1}").count("variant_id") == 1);
        CPPUNIT_ASSERT(errors_of("{\"variant_id\": 1, \"product_id\": 2, \"quantity\": 1}")
                           .count("product_id") == 1);
        CPPUNIT_ASSERT(errors_of("{\"variant_id\": 0, \"quantity\": 1}").count("variant_id") == 1);
    }

    void totalsAreExact() {
        std::vector<Line> lines = {{1, 10, 100, 10, 42075}, {2, 11, 100, 3, 33}};
        const auto json = render_cart(5, lines);
        rapidjson::Document d;
        d.Parse(json.c_str());
        CPPUNIT_ASSERT_EQUAL(std::string("4208.49"),
                             std::string(d["total"].GetString()));  // 4207.50 + 0.99
        CPPUNIT_ASSERT_EQUAL(13, d["item_count"].GetInt());
        CPPUNIT_ASSERT_EQUAL(std::string("4207.50"),
                             std::string(d["items"][0]["line_total"].GetString()));
        CPPUNIT_ASSERT_EQUAL(std::string("420.75"),
                             std::string(d["items"][0]["unit_price"].GetString()));
        const auto empty = render_cart(6, {});
        CPPUNIT_ASSERT(empty.find("\"total\":\"0.00\"") != std::string::npos);
    }

    void readsServiceReply() {
        CPPUNIT_ASSERT_EQUAL(
            Cents(42075),
            *unit_price_from_reply("{\"unit_price\":\"420.75\",\"total\":\"4207.50\"}"));
        CPPUNIT_ASSERT(!unit_price_from_reply("{\"unit_price\":420.75}"));
        CPPUNIT_ASSERT(!unit_price_from_reply("not json"));
        CPPUNIT_ASSERT(!unit_price_from_reply("{}"));
    }

    void passesRetryableServiceStatusesThrough() {
        CPPUNIT_ASSERT_EQUAL(409, unpriced_status(409));  // lock or serialization conflict
        CPPUNIT_ASSERT_EQUAL(503, unpriced_status(503));  // database down
        CPPUNIT_ASSERT_EQUAL(503, unpriced_status(500));  // a fault of the pricing plugin
        CPPUNIT_ASSERT_EQUAL(400, unpriced_status(400));  // input the service refused
        CPPUNIT_ASSERT_EQUAL(400, unpriced_status(404));  // variant gone
        CPPUNIT_ASSERT_EQUAL(400, unpriced_status(415));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CartTest);
