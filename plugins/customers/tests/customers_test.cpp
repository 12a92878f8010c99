// Unit tests of the customers plugin's validation and rendering.
#include "customers_domain.hpp"

#include "shopd/json.hpp"

#include <cppunit/extensions/HelperMacros.h>

using namespace shopd;
using shopd::customers::parse_new_customer;
using shopd::customers::render_created_customer;

class CustomersTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CustomersTest);
    CPPUNIT_TEST(defaultsToStandardTier);
    CPPUNIT_TEST(acceptsEveryTier);
    CPPUNIT_TEST(rejectsUnknownTierAndBlankName);
    CPPUNIT_TEST(rendersCreatedCustomerWithToken);
    CPPUNIT_TEST_SUITE_END();

public:
    void defaultsToStandardTier() {
        const auto c = parse_new_customer(parse_json_object("{\"name\":\"Ann\"}"));
        CPPUNIT_ASSERT_EQUAL(std::string("Ann"), c.name);
        CPPUNIT_ASSERT_EQUAL(std::string("STANDARD"), c.tier);
    }

    void acceptsEveryTier() {
        for (const char *tier : {"STANDARD", "SILVER", "GOLD", "PLATINUM"}) {
            const auto c = parse_new_customer(
                parse_json_object(std::string("{\"name\":\"A\",\"tier\":\"") + tier + "\"}"));
            CPPUNIT_ASSERT_EQUAL(std::string(tier), c.tier);
        }
    }

    void rejectsUnknownTierAndBlankName() {
        try {
            parse_new_customer(parse_json_object("{\"name\":\"  \",\"tier\":\"gold\"}"));
            CPPUNIT_FAIL("accepted");
        } catch (const ClientError &e) {
            CPPUNIT_ASSERT_EQUAL(400, e.status);
            CPPUNIT_ASSERT(e.errors.count("name") && e.errors.count("tier"));
        }
    }

    void rendersCreatedCustomerWithToken() {
        const auto c =
            parse_new_customer(parse_json_object("{\"name\":\"Ann \\\"A\\\"\",\"tier\":\"GOLD\"}"));
        CPPUNIT_ASSERT_EQUAL(
            std::string(R"({"id":7,"name":"Ann \"A\"","tier":"GOLD","token":"ab12"})"),
            render_created_customer(7, c, "ab12"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CustomersTest);
