// Unit tests: request-body parsing and DRF-style field validation.
#include "shopd/json.hpp"

#include <cppunit/extensions/HelperMacros.h>

using namespace shopd;

namespace {
/// Runs `fn` expecting a ClientError; returns it.
template <class F>
ClientError expect_error(F fn) {
    try {
        fn();
    } catch (const ClientError &e) {
        return e;
    }
    CPPUNIT_FAIL("expected a ClientError");
    return ClientError(0, "", "");
}
}  // namespace

class JsonTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(JsonTest);
    CPPUNIT_TEST(rejectsMalformedJson);
    CPPUNIT_TEST(rejectsNonObjects);
    CPPUNIT_TEST(deepNestingDoesNotOverflowTheStack);
    CPPUNIT_TEST(numbersKeepTheirExactText);
    CPPUNIT_TEST(collectsAllFieldErrors);
    CPPUNIT_TEST(validatesTypesAndRanges);
    CPPUNIT_TEST(rejectsInvalidUtf8AndCountsCharacters);
    CPPUNIT_TEST(recognisesJsonMediaTypes);
    CPPUNIT_TEST(rendersMoneyAsStrings);
    CPPUNIT_TEST_SUITE_END();

public:
    void rejectsMalformedJson() {
        for (const char *bad : {"", "{", "{\"a\":}", "{} {}", "{\"a\":1,}"})
            CPPUNIT_ASSERT_EQUAL_MESSAGE(bad, 400,
                                         expect_error([&] { parse_json_object(bad); }).status);
    }

    void rejectsNonObjects() {
        CPPUNIT_ASSERT_EQUAL(400, expect_error([] { parse_json_object("[1,2]"); }).status);
        CPPUNIT_ASSERT_EQUAL(400, expect_error([] { parse_json_object("\"x\""); }).status);
    }

    void deepNestingDoesNotOverflowTheStack() {
        // 1 MiB of '[' would overflow a recursive parser on a worker thread's stack.
        const std::string deep(1 << 20, '[');
        CPPUNIT_ASSERT_EQUAL(400, expect_error([&] { parse_json_object(deep); }).status);
        const std::string balanced =
            "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
        CPPUNIT_ASSERT_NO_THROW(parse_json_object(balanced));
    }

    void numbersKeepTheirExactText() {
        auto doc = parse_json_object("{\"price\": 0.1, \"big\": 12345678901234567}");
        Fields f(doc);
        CPPUNIT_ASSERT_EQUAL(Cents(10), *f.money("price", true, false));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(12345678901234567LL),
                             *f.integer("big", true, 0, INT64_MAX / 10));
    }

    void collectsAllFieldErrors() {
        auto doc = parse_json_object("{\"name\": \"\", \"price\": \"-1\", \"tier\": \"GOLDEN\"}");
        Fields f(doc);
        f.text("name", true, 200);
        f.money("price", true, false);
        f.choice("tier", true, {"GOLD", "SILVER"});
        f.id("category_id", true);
        const auto e = expect_error([&] { f.check(); });
        CPPUNIT_ASSERT_EQUAL(400, e.status);
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), e.errors.size());
        CPPUNIT_ASSERT_EQUAL(std::string("This field is required."),
                             e.errors.at("category_id").front());
    }

    void validatesTypesAndRanges() {
        auto doc = parse_json_object(
            "{\"a\": true, \"b\": 5, \"c\": \"5.5\", \"d\": null, \"e\": [1], \"f\": \"1.999\", \"g\": 3}");
        Fields f(doc);
        CPPUNIT_ASSERT(!f.integer("a", true, 0, 10));  // booleans are not integers
        CPPUNIT_ASSERT(!f.integer("b", true, 6, 10));  // below min
        CPPUNIT_ASSERT(!f.integer("c", true, 0, 10));  // decimals are not integers
        CPPUNIT_ASSERT(!f.text("d", true, 10));        // null where required
        CPPUNIT_ASSERT(!f.text("e", true, 10));        // array is not text
        CPPUNIT_ASSERT(!f.money("f", true, false));    // three decimals
        CPPUNIT_ASSERT_EQUAL(std::string("3"),
                             *f.text("g", true, 10));  // DRF's CharField takes numbers
        CPPUNIT_ASSERT_EQUAL(std::size_t(6), f.errors().size());
        Fields ok(doc);
        CPPUNIT_ASSERT(!ok.text("d", false, 10));  // null where optional: absent, no error
        CPPUNIT_ASSERT(ok.ok());
    }

    void rejectsInvalidUtf8AndCountsCharacters() {
        CPPUNIT_ASSERT_EQUAL(
            400, expect_error([] { parse_json_object("{\"name\":\"\xff\xfe\"}"); }).status);
        CPPUNIT_ASSERT_EQUAL(std::size_t(5),
                             utf8_length("\xc3\x89"
                                         "cole"));  // "École": 6 bytes, 5 characters
        const std::string name(199, 'a');
        auto doc =
            parse_json_object("{\"name\":\"" + name + "\xc3\x89\"}");  // 200 characters, 201 bytes
        Fields f(doc);
        CPPUNIT_ASSERT(f.text("name", true, 200));
        CPPUNIT_ASSERT(!f.text("name", true, 199));
    }

    void recognisesJsonMediaTypes() {
        CPPUNIT_ASSERT(is_json_media_type("application/json"));
        CPPUNIT_ASSERT(is_json_media_type("Application/JSON; charset=utf-8"));
        CPPUNIT_ASSERT(is_json_media_type("application/merge-patch+json"));
        CPPUNIT_ASSERT(!is_json_media_type("text/plain"));
        CPPUNIT_ASSERT(!is_json_media_type(""));
        CPPUNIT_ASSERT(!is_json_media_type("application/x-www-form-urlencoded"));
    }

    void rendersMoneyAsStrings() {
        const auto out = render_json([](JsonWriter &w) {
            w.StartObject();
            put_key(w, "total");
            put_money(w, 420750);
            w.EndObject();
        });
        CPPUNIT_ASSERT_EQUAL(std::string("{\"total\":\"4207.50\"}"), out);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(JsonTest);
