// Integration tests of POST /api/customers/ through nginx + shopd + PostgreSQL.
#include "http_client.hpp"

#include <cppunit/extensions/HelperMacros.h>
#include <pqxx/pqxx>

using namespace shopd::test;

class CustomersITest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CustomersITest);
    CPPUNIT_TEST(createsCustomerWithHashedToken);
    CPPUNIT_TEST(requiresAdmin);
    CPPUNIT_TEST(validationErrorsWriteNothing);
    CPPUNIT_TEST(nonJsonBodyIs415);
    CPPUNIT_TEST_SUITE_END();

    static long long customer_count() {
        pqxx::connection c(env("SHOPD_DATABASE_URL"));
        pqxx::read_transaction tx(c);
        return tx.exec1("SELECT count(*) FROM customers")[0].as<long long>();
    }

public:
    void createsCustomerWithHashedToken() {
        Http http;
        const std::string name = unique("ann");
        const auto r = http.post("/api/customers/", "{\"name\":\"" + name + "\",\"tier\":\"GOLD\"}",
                                 admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201L, r.status);
        const auto d = r.json();
        CPPUNIT_ASSERT(d["id"].IsInt64());
        CPPUNIT_ASSERT_EQUAL(name, std::string(d["name"].GetString()));
        CPPUNIT_ASSERT_EQUAL(std::string("GOLD"), std::string(d["tier"].GetString()));
        const std::string token = d["token"].GetString();
        CPPUNIT_ASSERT(token.size() >= 32);  // >= 128 bits of randomness
        pqxx::connection c(env("SHOPD_DATABASE_URL"));
        pqxx::read_transaction tx(c);
        const auto row =
            tx.exec_params1("SELECT token_hash FROM customers WHERE id = $1", d["id"].GetInt64());
        CPPUNIT_ASSERT(std::string(row[0].c_str()) != token);  // stored hashed, never in clear
        CPPUNIT_ASSERT_EQUAL(std::size_t(64), std::string(row[0].c_str()).size());
    }

    void requiresAdmin() {
        Http http;
        const auto before = customer_count();
        assert_problem(http.post("/api/customers/", "{\"name\":\"x\"}"), 401, "no token");
        assert_problem(http.post("/api/customers/", "{\"name\":\"x\"}", "nope"), 401, "bad token");
        CPPUNIT_ASSERT_EQUAL(before, customer_count());
    }

    void validationErrorsWriteNothing() {
        Http http;
        const auto before = customer_count();
        auto r =
            http.post("/api/customers/", "{\"name\":\"\",\"tier\":\"DIAMOND\"}", admin_token());
        assert_problem(r, 400, "blank name, bad tier");
        const auto d = r.json();
        CPPUNIT_ASSERT(d["errors"].HasMember("name") && d["errors"].HasMember("tier"));
        assert_problem(http.post("/api/customers/", "{\"name\":", admin_token()), 400,
                       "malformed JSON");
        assert_problem(http.post("/api/customers/", "[1]", admin_token()), 400, "array body");
        assert_problem(http.post("/api/customers/", "{\"name\":\"\xff\xfe\"}", admin_token()), 400,
                       "invalid UTF-8");
        assert_problem(http.post("/api/customers/", "{\"name\":true}", admin_token()), 400,
                       "boolean as name");
        assert_problem(http.post("/api/customers/", "{\"name\":{\"a\":1}}", admin_token()), 400,
                       "object as name");
        CPPUNIT_ASSERT_EQUAL(before, customer_count());
    }

    void nonJsonBodyIs415() {
        Http http;
        assert_problem(
            http.post("/api/customers/", "name=x", admin_token(), {{"Content-Type", "text/plain"}}),
            415, "text/plain body");
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CustomersITest);
