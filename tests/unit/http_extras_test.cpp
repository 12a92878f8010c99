// Unit tests: conditional GET (ETag, If-None-Match) and CORS decisions of the host.
#include "cors.hpp"
#include "etag.hpp"

#include <cppunit/extensions/HelperMacros.h>

using namespace shopd::host;

namespace {

std::string header(const shopd_response &resp, const std::string &name) {
    for (const auto &[n, v] : resp.headers)
        if (n == name) return v;
    return "";
}

Incoming get_request(std::string origin = "", std::string if_none_match = "") {
    Incoming in;
    in.method = "GET";
    in.path = "/api/products/";
    in.origin = std::move(origin);
    in.if_none_match = std::move(if_none_match);
    return in;
}

shopd_response ok_json(std::string body) {
    shopd_response resp;
    resp.status = 200;
    resp.content_type = "application/json";
    resp.body = std::move(body);
    return resp;
}

}  // namespace

class HttpExtrasTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(HttpExtrasTest);
    CPPUNIT_TEST(tagIsStrongAndFollowsTheBody);
    CPPUNIT_TEST(ifNoneMatchListsAndWildcard);
    CPPUNIT_TEST(matchingTagGives304WithoutBody);
    CPPUNIT_TEST(onlySuccessfulGetsGetATag);
    CPPUNIT_TEST(preflightOnlyForAllowedOrigins);
    CPPUNIT_TEST(responsesToOtherOriginsCarryNoCorsHeaders);
    CPPUNIT_TEST(printableEscapesEverythingButPrintableAscii);
    CPPUNIT_TEST(problemSummaryNamesTitleAndFieldsOnly);
    CPPUNIT_TEST_SUITE_END();

public:
    void tagIsStrongAndFollowsTheBody() {
        const auto a = entity_tag("{\"id\":1}");
        CPPUNIT_ASSERT_EQUAL(std::size_t(34), a.size());  // "<32 hex>"
        CPPUNIT_ASSERT_EQUAL('"', a.front());
        CPPUNIT_ASSERT(a.rfind("W/", 0) == std::string::npos);
        CPPUNIT_ASSERT_EQUAL(a, entity_tag("{\"id\":1}"));
        CPPUNIT_ASSERT(a != entity_tag("{\"id\":2}"));
    }

    void ifNoneMatchListsAndWildcard() {
        CPPUNIT_ASSERT(none_match("\"abc\"", "\"abc\""));
        CPPUNIT_ASSERT(none_match("\"x\", \"abc\"", "\"abc\""));
        CPPUNIT_ASSERT(none_match("W/\"abc\"", "\"abc\""));  // weak comparison for If-None-Match
        CPPUNIT_ASSERT(none_match("*", "\"abc\""));
        CPPUNIT_ASSERT(!none_match("\"abd\"", "\"abc\""));
        CPPUNIT_ASSERT(!none_match("abc", "\"abc\""));  // unquoted is not the tag
        CPPUNIT_ASSERT(!none_match("", "\"abc\""));
    }

    void matchingTagGives304WithoutBody() {
        auto first = ok_json("[1,2,3]");
        apply_conditional_get(get_request(), first);
        const auto tag = header(first, "ETag");
        CPPUNIT_ASSERT_EQUAL(200, first.status);
        CPPUNIT_ASSERT(!tag.empty());
        auto again = ok_json("[1,2,3]");
        apply_conditional_get(get_request("", tag), again);
        CPPUNIT_ASSERT_EQUAL(304, again.status);
        CPPUNIT_ASSERT(again.body.empty());
        CPPUNIT_ASSERT_EQUAL(tag, header(again, "ETag"));
        auto changed = ok_json("[1,2,3,4]");
        apply_conditional_get(get_request("", tag), changed);
        CPPUNIT_ASSERT_EQUAL(200, changed.status);
    }

    void onlySuccessfulGetsGetATag() {
        auto post = ok_json("{}");
        Incoming in = get_request();
        in.method = "POST";
        apply_conditional_get(in, post);
        CPPUNIT_ASSERT(header(post, "ETag").empty());
        shopd_response missing;
        missing.status = 404;
        missing.body = "{}";
        apply_conditional_get(get_request("", "*"), missing);
        CPPUNIT_ASSERT_EQUAL(404, missing.status);
        CPPUNIT_ASSERT(header(missing, "ETag").empty());
    }

    void preflightOnlyForAllowedOrigins() {
        const Cors cors({"http://localhost:5173"});
        Incoming in = get_request("http://localhost:5173");
        in.method = "OPTIONS";
        in.cors_request_method = "POST";
        shopd_response resp;
        CPPUNIT_ASSERT(cors.answer_preflight(in, resp));
        CPPUNIT_ASSERT_EQUAL(204, resp.status);
        CPPUNIT_ASSERT_EQUAL(std::string("http://localhost:5173"),
                             header(resp, "Access-Control-Allow-Origin"));
        for (const char *h : {"Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"})
            CPPUNIT_ASSERT(header(resp, "Access-Control-Allow-Headers").find(h) !=
                           std::string::npos);
        CPPUNIT_ASSERT(!header(resp, "Access-Control-Max-Age").empty());
        in.origin = "http://evil.example";
        shopd_response other;
        CPPUNIT_ASSERT(!cors.answer_preflight(in, other));
        CPPUNIT_ASSERT(other.headers.empty());
    }

    void responsesToOtherOriginsCarryNoCorsHeaders() {
        const Cors cors({"http://localhost:5173", "https://shop.example"});
        auto allowed = ok_json("{}");
        cors.decorate(get_request("https://shop.example"), allowed);
        CPPUNIT_ASSERT_EQUAL(std::string("https://shop.example"),
                             header(allowed, "Access-Control-Allow-Origin"));
        CPPUNIT_ASSERT_EQUAL(std::string("Origin"), header(allowed, "Vary"));
        CPPUNIT_ASSERT(header(allowed, "Access-Control-Expose-Headers").find("ETag") !=
                       std::string::npos);
        auto other = ok_json("{}");
        cors.decorate(get_request("https://shop.example.evil"), other);
        CPPUNIT_ASSERT(other.headers.empty());
        auto none = ok_json("{}");
        cors.decorate(get_request(), none);
        CPPUNIT_ASSERT(none.headers.empty());
    }

    void printableEscapesEverythingButPrintableAscii() {
        CPPUNIT_ASSERT_EQUAL(std::string("/api/products/1/"), printable("/api/products/1/"));
        CPPUNIT_ASSERT_EQUAL(std::string("/a%FF%FEb/"), printable("/a\xff\xfe"
                                                                  "b/"));
        CPPUNIT_ASSERT_EQUAL(std::string("%00%0A%25"), printable(std::string("\0\n%", 3)));
    }

    void problemSummaryNamesTitleAndFieldsOnly() {
        shopd_response resp;
        resp.status = 400;
        resp.content_type = "application/problem+json";
        resp.body = R"({"type":"about:blank","title":"Bad Request","status":400,)"
                    R"("detail":"secret-value","errors":{"quantity":["x"],"sku":["y"]}})";
        const auto s = summarize_problem(resp);
        CPPUNIT_ASSERT_EQUAL(std::string("Bad Request"), s.title);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), s.fields.size());
        CPPUNIT_ASSERT_EQUAL(std::string("quantity"), s.fields[0]);
        auto json = ok_json("{\"title\":\"not a problem\"}");
        CPPUNIT_ASSERT(summarize_problem(json).title.empty());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HttpExtrasTest);
