// Unit tests of the customers plugin's validation and rendering.
#include "customers_domain.hpp"

#include "shopd/json.hpp"

#include <cppunit/extensions/HelperMacros.h>

using namespace shopd;
using shopd::customers::CustomerView;
using shopd::customers::parse_customer_patch;
using shopd::customers::parse_new_customer;
using shopd::customers::render_created_customer;
using shopd::customers::render_customer;
using shopd::customers::render_token;

namespace {

/// The field errors parse_customer_patch reports for `body`; fails when it accepts the body.
FieldErrors patch_errors(const char *body) {
    try {
        parse_customer_patch(parse_json_object(body));
    } catch (const ClientError &e) {
        CPPUNIT_ASSERT_EQUAL(400, e.status);
        return e.errors;
    }
    CPPUNIT_FAIL(std::string("accepted ") + body);
    return {};
}

}  // namespace

class CustomersTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CustomersTest);
    CPPUNIT_TEST(defaultsToStandardTier);
    CPPUNIT_TEST(acceptsEveryTier);
    CPPUNIT_TEST(rejectsUnknownTierAndBlankName);
    CPPUNIT_TEST(rendersCreatedCustomerWithToken);
    CPPUNIT_TEST(emptyPatchChangesNothing);
    CPPUNIT_TEST(patchIgnoresUnknownFields);
    CPPUNIT_TEST(patchSetsEachFieldAlone);
    CPPUNIT_TEST(patchValidatesLikePost);
    CPPUNIT_TEST(patchRefusesNull);
    CPPUNIT_TEST(rendersCustomerWithoutToken);
    CPPUNIT_TEST(rendersToken);
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

    // DRF: a PATCH with {} validates and answers the object unchanged.
    void emptyPatchChangesNothing() {
        const auto p = parse_customer_patch(parse_json_object("{}"));
        CPPUNIT_ASSERT(!p.name && !p.tier);
    }

    // DRF serializers drop fields they do not declare; "id" and "token" are not writable.
    void patchIgnoresUnknownFields() {
        const auto p = parse_customer_patch(
            parse_json_object(R"({"id":9,"token":"x","token_hash":"y","colour":[1]})"));
        CPPUNIT_ASSERT(!p.name && !p.tier);
        const auto q = parse_customer_patch(parse_json_object(R"({"name":"Bo","token":"x"})"));
        CPPUNIT_ASSERT_EQUAL(std::string("Bo"), *q.name);
        CPPUNIT_ASSERT(!q.tier);
    }

    void patchSetsEachFieldAlone() {
        const auto t = parse_customer_patch(parse_json_object(R"({"tier":"PLATINUM"})"));
        CPPUNIT_ASSERT(!t.name);
        CPPUNIT_ASSERT_EQUAL(std::string("PLATINUM"), *t.tier);
        const auto both =
            parse_customer_patch(parse_json_object(R"({"name":"Cy","tier":"SILVER"})"));
        CPPUNIT_ASSERT_EQUAL(std::string("Cy"), *both.name);
        CPPUNIT_ASSERT_EQUAL(std::string("SILVER"), *both.tier);
    }

    void patchValidatesLikePost() {
        const auto e = patch_errors(R"({"name":" ","tier":"gold"})");
        CPPUNIT_ASSERT(e.count("name") && e.count("tier"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), patch_errors(R"({"tier":"DIAMOND"})").count("tier"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), patch_errors(R"({"tier":5})").count("tier"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), patch_errors(R"({"name":true})").count("name"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), patch_errors(R"({"name":["a"]})").count("name"));
        const std::string long_name = "{\"name\":\"" + std::string(201, 'a') + "\"}";
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), patch_errors(long_name.c_str()).count("name"));
        // 200 characters is the limit, counted in characters (two bytes each here), as DRF does.
        std::string max_name;
        for (int i = 0; i < 200; ++i) max_name += "\u00e9";
        const auto ok = parse_customer_patch(parse_json_object("{\"name\":\"" + max_name + "\"}"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(400), ok.name->size());
    }

    // Neither column is nullable: null is an error, not "leave unchanged".
    void patchRefusesNull() {
        const auto e = patch_errors(R"({"name":null,"tier":null})");
        CPPUNIT_ASSERT_EQUAL(std::string("This field may not be null."), e.at("name").at(0));
        CPPUNIT_ASSERT_EQUAL(std::string("This field may not be null."), e.at("tier").at(0));
    }

    void rendersCustomerWithoutToken() {
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"id":3,"name":"Ann \"A\"","tier":"SILVER"})"),
                             render_customer(CustomerView{3, "Ann \"A\"", "SILVER"}));
    }

    void rendersToken() {
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"token":"00ff"})"), render_token("00ff"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CustomersTest);
