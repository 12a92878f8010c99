// Unit tests: routing by method and path pattern, 404 vs 405, path normalisation.
#include "router.hpp"

#include <cppunit/extensions/HelperMacros.h>

#include <stdexcept>

using namespace shopd::host;

class RouterTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(RouterTest);
    CPPUNIT_TEST(matchesLiteralAndCapture);
    CPPUNIT_TEST(captureOnlyMatchesIds);
    CPPUNIT_TEST(wrongMethodIs405WithAllow);
    CPPUNIT_TEST(unknownPathIs404);
    CPPUNIT_TEST(headIsNotARouteMethod);
    CPPUNIT_TEST(normalisesTrailingSlash);
    CPPUNIT_TEST(rejectsBadAndDuplicatePatterns);
    CPPUNIT_TEST_SUITE_END();

    Router router_;

public:
    void setUp() override {
        router_ = Router();
        router_.add("GET", "/api/products/", 0, 1);
        router_.add("POST", "/api/products/", 0, 2);
        router_.add("GET", "/api/products/{id}/", 0, 3);
        router_.add("GET", "/api/pricing/rules/", 1, 4);
        router_.add("GET", "/api/pricing/{id}/price/", 1, 5);
        router_.add("DELETE", "/api/pricing/rules/{id}/", 1, 6);
    }

    void matchesLiteralAndCapture() {
        auto m = router_.match("GET", "/api/products/42/");
        CPPUNIT_ASSERT(m.status == MatchStatus::found);
        CPPUNIT_ASSERT_EQUAL(3, m.route->id);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), m.params.size());
        CPPUNIT_ASSERT_EQUAL(std::string("42"), m.params[0]);
        m = router_.match("GET", "/api/pricing/rules/");
        CPPUNIT_ASSERT_EQUAL(4, m.route->id);
        m = router_.match("GET", "/api/pricing/7/price/");
        CPPUNIT_ASSERT_EQUAL(5, m.route->id);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), m.route->owner);
    }

    void captureOnlyMatchesIds() {
        CPPUNIT_ASSERT(router_.match("GET", "/api/products/abc/").status == MatchStatus::not_found);
        CPPUNIT_ASSERT(router_.match("GET", "/api/products/-1/").status == MatchStatus::not_found);
        CPPUNIT_ASSERT(router_.match("GET", "/api/products/12345678901234567890/").status ==
                       MatchStatus::not_found);
    }

    void wrongMethodIs405WithAllow() {
        auto m = router_.match("DELETE", "/api/products/");
        CPPUNIT_ASSERT(m.status == MatchStatus::method_not_allowed);
        CPPUNIT_ASSERT_EQUAL(std::string("GET, POST"), m.allow);
        m = router_.match("PUT", "/api/pricing/rules/3/");
        CPPUNIT_ASSERT(m.status == MatchStatus::method_not_allowed);
        CPPUNIT_ASSERT_EQUAL(std::string("DELETE"), m.allow);
    }

    void unknownPathIs404() {
        CPPUNIT_ASSERT(router_.match("GET", "/api/nothing/").status == MatchStatus::not_found);
        CPPUNIT_ASSERT(router_.match("GET", "/").status == MatchStatus::not_found);
        CPPUNIT_ASSERT(router_.match("GET", "/api/products/1/extra/").status ==
                       MatchStatus::not_found);
    }

    // HEAD is mapped to GET once, as the request is read (fcgi_io); the router knows no HEAD.
    void headIsNotARouteMethod() {
        CPPUNIT_ASSERT(router_.match("HEAD", "/api/products/").status ==
                       MatchStatus::method_not_allowed);
    }

    void normalisesTrailingSlash() {
        CPPUNIT_ASSERT_EQUAL(std::string("/api/products/"), normalise_path("/api/products"));
        CPPUNIT_ASSERT_EQUAL(std::string("/api/products/"), normalise_path("/api/products/"));
        CPPUNIT_ASSERT_EQUAL(std::string("/"), normalise_path(""));
    }

    void rejectsBadAndDuplicatePatterns() {
        CPPUNIT_ASSERT_THROW(router_.add("GET", "api/x/", 0, 9), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(router_.add("GET", "/api/x", 0, 9), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(router_.add("GET", "/api/products/{pk}/", 2, 9),
                             std::invalid_argument);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RouterTest);
