// Unit tests: query strings, ids, pagination maths and problem+json rendering.
#include "shopd/http.hpp"

#include <cppunit/extensions/HelperMacros.h>
#include <rapidjson/document.h>

using namespace shopd;

class HttpTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(HttpTest);
    CPPUNIT_TEST(decodesQueryStrings);
    CPPUNIT_TEST(lastRepeatedKeyWins);
    CPPUNIT_TEST(parsesIdsStrictly);
    CPPUNIT_TEST(pageDefaultsAndCaps);
    CPPUNIT_TEST(invalidPageIsNotFound);
    CPPUNIT_TEST(pageExistence);
    CPPUNIT_TEST(nextAndPreviousLinks);
    CPPUNIT_TEST(rendersProblemJson);
    CPPUNIT_TEST_SUITE_END();

public:
    void decodesQueryStrings() {
        Query q("search=red+shirt&x=%41%2f&empty=&flag");
        CPPUNIT_ASSERT_EQUAL(std::string("red shirt"), *q.get("search"));
        CPPUNIT_ASSERT_EQUAL(std::string("A/"), *q.get("x"));
        CPPUNIT_ASSERT_EQUAL(std::string(""), *q.get("empty"));
        CPPUNIT_ASSERT_EQUAL(std::string(""), *q.get("flag"));
        CPPUNIT_ASSERT(!q.get("missing"));
        CPPUNIT_ASSERT_EQUAL(std::string("%"), url_decode("%"));  // truncated escape kept literally
    }

    void lastRepeatedKeyWins() {
        CPPUNIT_ASSERT_EQUAL(std::string("2"), *Query("a=1&a=2").get("a"));
    }

    void parsesIdsStrictly() {
        CPPUNIT_ASSERT_EQUAL(std::int64_t(42), *parse_id("42"));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(9223372036854775807LL), *parse_id("9223372036854775807"));
        for (const char *bad :
             {"0", "-1", "", "1a", "9223372036854775808", "99999999999999999999", "+1", "1.0",
              "0000000000000000000"})  // 19 zeros: found by fuzz_json
            CPPUNIT_ASSERT_MESSAGE(bad, !parse_id(bad));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(-5), *parse_int("-5", -10, 10));
        CPPUNIT_ASSERT(!parse_int("11", -10, 10));
    }

    void pageDefaultsAndCaps() {
        auto p = parse_page_request(Query(""));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), p.page);
        CPPUNIT_ASSERT_EQUAL(kDefaultPageSize, p.page_size);
        p = parse_page_request(Query("page=3&page_size=1000"));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(3), p.page);
        CPPUNIT_ASSERT_EQUAL(kMaxPageSize, p.page_size);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(200), p.offset());
        p = parse_page_request(Query("page_size=abc"));  // DRF falls back to the default
        CPPUNIT_ASSERT_EQUAL(kDefaultPageSize, p.page_size);
    }

    void invalidPageIsNotFound() {
        for (const char *q : {"page=0", "page=-1", "page=abc", "page="}) {
            try {
                parse_page_request(Query(q));
                CPPUNIT_FAIL(std::string("accepted ") + q);
            } catch (const ClientError &e) {
                CPPUNIT_ASSERT_EQUAL(404, e.status);
            }
        }
    }

    void pageExistence() {
        PageRequest p{1, 20};
        CPPUNIT_ASSERT(page_exists(p, 0));  // an empty first page is fine
        p.page = 2;
        CPPUNIT_ASSERT(page_exists(p, 21));
        CPPUNIT_ASSERT(!page_exists(p, 20));
    }

    void nextAndPreviousLinks() {
        PageRequest p{2, 10};
        CPPUNIT_ASSERT_EQUAL(
            std::string("http://h/api/products/?search=a&page=3"),
            *next_page_url(p, 25, "http://h", "/api/products/", "search=a&page=2"));
        CPPUNIT_ASSERT_EQUAL(
            std::string("http://h/api/products/?search=a"),
            *previous_page_url(p, "http://h", "/api/products/", "search=a&page=2"));
        p.page = 3;
        CPPUNIT_ASSERT(!next_page_url(p, 25, "http://h", "/x/", "page=3"));
        CPPUNIT_ASSERT_EQUAL(std::string("http://h/x/?page=2"),
                             *previous_page_url(p, "http://h", "/x/", "page=3"));
        p.page = 1;
        CPPUNIT_ASSERT(!previous_page_url(p, "http://h", "/x/", ""));
    }

    void rendersProblemJson() {
        const std::string body =
            problem_json(400, "Invalid input", "bad \"x\"", {{"price", {"too low"}}});
        rapidjson::Document d;
        d.Parse(body.c_str());
        CPPUNIT_ASSERT(!d.HasParseError());
        CPPUNIT_ASSERT_EQUAL(400, d["status"].GetInt());
        CPPUNIT_ASSERT_EQUAL(std::string("bad \"x\""), std::string(d["detail"].GetString()));
        CPPUNIT_ASSERT_EQUAL(std::string("too low"),
                             std::string(d["errors"]["price"][0].GetString()));
        CPPUNIT_ASSERT(d.HasMember("type") && d.HasMember("title"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HttpTest);
