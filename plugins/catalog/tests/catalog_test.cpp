// Unit tests of the catalog plugin's domain functions: slugs, query parameters, body validation
// and JSON rendering. No database.
#include "catalog_domain.hpp"

#include "shopd/json.hpp"

#include <cppunit/extensions/HelperMacros.h>

#include <functional>

using namespace shopd;
using namespace shopd::catalog;

namespace {

/// Runs `fn`, which must throw a 400 ClientError whose field errors have exactly `fields`.
void expect_field_errors(const std::function<void()> &fn, const std::set<std::string> &fields,
                         const std::string &what) {
    try {
        fn();
    } catch (const ClientError &e) {
        CPPUNIT_ASSERT_EQUAL_MESSAGE(what, 400, e.status);
        std::set<std::string> got;
        std::string listed;
        for (const auto &[field, messages] : e.errors) {
            CPPUNIT_ASSERT_MESSAGE(what + ": no message for " + field, !messages.empty());
            got.insert(field);
            listed += " " + field;
        }
        CPPUNIT_ASSERT_MESSAGE(what + ": got" + listed, got == fields);
        return;
    }
    CPPUNIT_FAIL(what + ": accepted");
}

NewProduct product(const std::string &json) { return parse_new_product(parse_json_object(json)); }
NewCategory category(const std::string &json) {
    return parse_new_category(parse_json_object(json));
}
NewStandaloneVariant variant(const std::string &json) {
    return parse_new_variant(parse_json_object(json));
}
std::int64_t inventory(const std::string &json) { return parse_inventory(parse_json_object(json)); }
CategoryChanges category_changes(const std::string &json, UpdateMode mode) {
    return parse_category_changes(parse_json_object(json), mode);
}
ProductChanges product_changes(const std::string &json, UpdateMode mode) {
    return parse_product_changes(parse_json_object(json), mode);
}
VariantChanges variant_changes(const std::string &json, UpdateMode mode) {
    return parse_variant_changes(parse_json_object(json), mode);
}
ProductQuery product_query(const std::string &raw) { return parse_product_query(Query(raw)); }

std::string repeat(const std::string &s, std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += s;
    return out;
}

/// A product body with the given "variants" JSON.
std::string with_variants(const std::string &variants,
                          const std::string &base_price = "\"10.00\"") {
    return "{\"name\":\"Desk\",\"category_id\":1,\"base_price\":" + base_price +
           ",\"variants\":" + variants + "}";
}

}  // namespace

class CatalogTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CatalogTest);
    CPPUNIT_TEST(slugifyLowersAndCollapses);
    CPPUNIT_TEST(slugifyNeverEmpty);
    CPPUNIT_TEST(firstFreeSlugAppendsLowestFreeSuffix);
    CPPUNIT_TEST(utf8Validation);
    CPPUNIT_TEST(orderingChoices);
    CPPUNIT_TEST(unknownOrderingIs400);
    CPPUNIT_TEST(idFilters);
    CPPUNIT_TEST(searchParameter);
    CPPUNIT_TEST(escapeLikeMakesWildcardsLiteral);
    CPPUNIT_TEST(priceFilters);
    CPPUNIT_TEST(boolFilter);
    CPPUNIT_TEST(productQueryReadsEveryParameter);
    CPPUNIT_TEST(productQueryReportsEveryBadParameter);
    CPPUNIT_TEST(productQueryMinAboveMax);
    CPPUNIT_TEST(categoryBody);
    CPPUNIT_TEST(categoryNameLimitsCountCharacters);
    CPPUNIT_TEST(categoryNameMayBeANumber);
    CPPUNIT_TEST(categoryBodyErrors);
    CPPUNIT_TEST(productWithoutVariants);
    CPPUNIT_TEST(productWithVariantsAndDefaults);
    CPPUNIT_TEST(productMoneyRules);
    CPPUNIT_TEST(productRequiredFieldsAllAtOnce);
    CPPUNIT_TEST(productWrongTypes);
    CPPUNIT_TEST(nestedVariantErrorsAreIndexed);
    CPPUNIT_TEST(duplicateSkuWithinRequest);
    CPPUNIT_TEST(variantPriceMayNotGoBelowZero);
    CPPUNIT_TEST(variantStockBounds);
    CPPUNIT_TEST(tooManyVariants);
    CPPUNIT_TEST(standaloneVariantBody);
    CPPUNIT_TEST(standaloneVariantErrors);
    CPPUNIT_TEST(inventoryBody);
    CPPUNIT_TEST(checkVariantPrice);
    CPPUNIT_TEST(categoryPutNeedsEveryField);
    CPPUNIT_TEST(categoryPatchParent);
    CPPUNIT_TEST(categoryChangesErrors);
    CPPUNIT_TEST(productPutNeedsEveryField);
    CPPUNIT_TEST(productPatchTakesAnySubset);
    CPPUNIT_TEST(productChangesErrors);
    CPPUNIT_TEST(variantPutNeedsEveryField);
    CPPUNIT_TEST(variantPatchTakesAnySubset);
    CPPUNIT_TEST(variantChangesErrors);
    CPPUNIT_TEST(applyChangesReplacesNamedFieldsOnly);
    CPPUNIT_TEST(stockMustCoverReserved);
    CPPUNIT_TEST(rendersCategory);
    CPPUNIT_TEST(rendersProductWithVariants);
    CPPUNIT_TEST(rendersPageEnvelope);
    CPPUNIT_TEST_SUITE_END();

public:
    void slugifyLowersAndCollapses() {
        CPPUNIT_ASSERT_EQUAL(std::string("mens-shoes"), slugify("Mens Shoes"));
        CPPUNIT_ASSERT_EQUAL(std::string("men-s-shoes"), slugify("Men's Shoes"));
        CPPUNIT_ASSERT_EQUAL(std::string("hello-world"), slugify("  --Hello,   World!!  "));
        CPPUNIT_ASSERT_EQUAL(std::string("tv-hi-fi-2024"), slugify("TV & Hi-Fi (2024)"));
        CPPUNIT_ASSERT_EQUAL(std::string("abc123"), slugify("ABC123"));
        // Non-ASCII bytes count as separators (no Unicode case tables here).
        CPPUNIT_ASSERT_EQUAL(std::string("caf-cr-me"), slugify("Caf\xc3\xa9 Cr\xc3\xa8me"));
    }

    void slugifyNeverEmpty() {
        CPPUNIT_ASSERT_EQUAL(std::string("category"), slugify("!!!"));
        CPPUNIT_ASSERT_EQUAL(std::string("category"), slugify("\xe6\x97\xa5\xe6\x9c\xac"));
        CPPUNIT_ASSERT_EQUAL(std::string("category"), slugify(""));
    }

    void firstFreeSlugAppendsLowestFreeSuffix() {
        CPPUNIT_ASSERT_EQUAL(std::string("shoes"), first_free_slug("shoes", {}));
        CPPUNIT_ASSERT_EQUAL(std::string("shoes"),
                             first_free_slug("shoes", {"shoes-2", "shoes-x"}));
        CPPUNIT_ASSERT_EQUAL(std::string("shoes-2"), first_free_slug("shoes", {"shoes"}));
        CPPUNIT_ASSERT_EQUAL(std::string("shoes-4"),
                             first_free_slug("shoes", {"shoes", "shoes-2", "shoes-3"}));
        CPPUNIT_ASSERT_EQUAL(std::string("shoes-3"),
                             first_free_slug("shoes", {"shoes", "shoes-2", "shoes-4"}));
    }

    void utf8Validation() {
        CPPUNIT_ASSERT(valid_utf8("plain ascii"));
        CPPUNIT_ASSERT(valid_utf8("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80"));
        CPPUNIT_ASSERT(!valid_utf8("\xff"));
        CPPUNIT_ASSERT(!valid_utf8("\xc3"));              // truncated
        CPPUNIT_ASSERT(!valid_utf8("ab\xe6\x97"));        // truncated at the end
        CPPUNIT_ASSERT(!valid_utf8("\xc0\xaf"));          // overlong '/'
        CPPUNIT_ASSERT(!valid_utf8("\xe0\x80\xaf"));      // overlong, 3 bytes
        CPPUNIT_ASSERT(!valid_utf8("\xed\xa0\x80"));      // UTF-16 surrogate
        CPPUNIT_ASSERT(!valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
        CPPUNIT_ASSERT(!valid_utf8("\x80"));              // lone continuation byte
    }

    void orderingChoices() {
        CPPUNIT_ASSERT(ProductOrdering::ID == parse_ordering(std::nullopt));
        CPPUNIT_ASSERT(ProductOrdering::ID == parse_ordering(std::string()));
        CPPUNIT_ASSERT(ProductOrdering::ID == parse_ordering(std::string("id")));
        CPPUNIT_ASSERT(ProductOrdering::ID_DESC == parse_ordering(std::string("-id")));
        CPPUNIT_ASSERT(ProductOrdering::NAME == parse_ordering(std::string("name")));
        CPPUNIT_ASSERT(ProductOrdering::NAME_DESC == parse_ordering(std::string("-name")));
        CPPUNIT_ASSERT(ProductOrdering::BASE_PRICE == parse_ordering(std::string("base_price")));
        CPPUNIT_ASSERT(ProductOrdering::BASE_PRICE_DESC ==
                       parse_ordering(std::string("-base_price")));
    }

    void unknownOrderingIs400() {
        for (const char *bad : {"price", "NAME", "--id", "id,name", " id", "created_at"})
            expect_field_errors([&] { parse_ordering(std::string(bad)); }, {"ordering"}, bad);
    }

    void idFilters() {
        CPPUNIT_ASSERT(!parse_id_filter("category", std::nullopt));
        CPPUNIT_ASSERT(!parse_id_filter("category", std::string()));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(42), *parse_id_filter("category", std::string("42")));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(9223372036854775807),
                             *parse_id_filter("product", std::string("9223372036854775807")));
        for (const char *bad : {"abc", "0", "-1", "1.5", " 1", "9223372036854775808", "1e3"})
            expect_field_errors([&] { parse_id_filter("parent", std::string(bad)); }, {"parent"},
                                bad);
    }

    void searchParameter() {
        CPPUNIT_ASSERT(!parse_search(std::nullopt));
        CPPUNIT_ASSERT(!parse_search(std::string()));
        CPPUNIT_ASSERT_EQUAL(std::string("50%_off\\"), *parse_search(std::string("50%_off\\")));
        expect_field_errors([] { parse_search(std::string("\xff")); }, {"search"}, "invalid UTF-8");
        expect_field_errors([] { parse_search(std::string("a\0b", 3)); }, {"search"}, "NUL");
    }

    void escapeLikeMakesWildcardsLiteral() {
        CPPUNIT_ASSERT_EQUAL(std::string("plain text"), escape_like("plain text"));
        CPPUNIT_ASSERT_EQUAL(std::string("100\\%"), escape_like("100%"));
        CPPUNIT_ASSERT_EQUAL(std::string("under\\_score"), escape_like("under_score"));
        CPPUNIT_ASSERT_EQUAL(std::string("back\\\\slash"), escape_like("back\\slash"));
        CPPUNIT_ASSERT_EQUAL(std::string("\\%\\_\\\\"), escape_like("%_\\"));
        CPPUNIT_ASSERT_EQUAL(std::string(), escape_like(""));
        // Multi-byte characters pass through untouched.
        CPPUNIT_ASSERT_EQUAL(std::string("caf\xc3\xa9"), escape_like("caf\xc3\xa9"));
    }

    void priceFilters() {
        CPPUNIT_ASSERT(!parse_price_filter("min_price", std::nullopt));
        CPPUNIT_ASSERT(!parse_price_filter("min_price", std::string()));
        CPPUNIT_ASSERT_EQUAL(Cents(1000), *parse_price_filter("min_price", std::string("10")));
        CPPUNIT_ASSERT_EQUAL(Cents(1050), *parse_price_filter("min_price", std::string("10.5")));
        CPPUNIT_ASSERT_EQUAL(Cents(0), *parse_price_filter("max_price", std::string("0.00")));
        CPPUNIT_ASSERT_EQUAL(Cents(999999999999),
                             *parse_price_filter("max_price", std::string("9999999999.99")));
        for (const char *bad :
             {"abc", "1.005", "-1", "-0.01", "1e3", " 1", "10000000000.00", "1,5"})
            expect_field_errors([&] { parse_price_filter("max_price", std::string(bad)); },
                                {"max_price"}, bad);
    }

    void boolFilter() {
        CPPUNIT_ASSERT(!parse_bool_filter("in_stock", std::nullopt));
        CPPUNIT_ASSERT(!parse_bool_filter("in_stock", std::string()));
        CPPUNIT_ASSERT_EQUAL(true, *parse_bool_filter("in_stock", std::string("true")));
        CPPUNIT_ASSERT_EQUAL(false, *parse_bool_filter("in_stock", std::string("false")));
        for (const char *bad : {"1", "0", "yes", "TRUE", "True", "false ", "t"})
            expect_field_errors([&] { parse_bool_filter("in_stock", std::string(bad)); },
                                {"in_stock"}, bad);
    }

    void productQueryReadsEveryParameter() {
        auto q = product_query("");
        CPPUNIT_ASSERT(!q.category && !q.search_like && !q.min_price && !q.max_price &&
                       !q.in_stock);
        CPPUNIT_ASSERT(ProductOrdering::ID == q.ordering);
        q = product_query(
            "category=4&search=50%25_off&ordering=-name&min_price=1.5&max_price=20&in_stock=false");
        CPPUNIT_ASSERT_EQUAL(std::int64_t(4), *q.category);
        CPPUNIT_ASSERT_EQUAL(std::string("50\\%\\_off"), *q.search_like);
        CPPUNIT_ASSERT(ProductOrdering::NAME_DESC == q.ordering);
        CPPUNIT_ASSERT_EQUAL(Cents(150), *q.min_price);
        CPPUNIT_ASSERT_EQUAL(Cents(2000), *q.max_price);
        CPPUNIT_ASSERT_EQUAL(false, *q.in_stock);
        // Equal bounds are fine (both inclusive); empty values mean no filter.
        q = product_query("min_price=5&max_price=5.00&in_stock=&search=&category=");
        CPPUNIT_ASSERT_EQUAL(Cents(500), *q.min_price);
        CPPUNIT_ASSERT(!q.in_stock && !q.search_like && !q.category);
    }

    void productQueryReportsEveryBadParameter() {
        expect_field_errors(
            [] {
                product_query(
                    "category=x&search=%FF&ordering=price&min_price=a&max_price=-1&in_stock=1");
            },
            {"category", "search", "ordering", "min_price", "max_price", "in_stock"},
            "every parameter wrong");
    }

    void productQueryMinAboveMax() {
        expect_field_errors([] { product_query("min_price=10.01&max_price=10"); }, {"min_price"},
                            "min above max");
        // A bad bound is reported as such, not compared.
        expect_field_errors([] { product_query("min_price=x&max_price=10"); }, {"min_price"},
                            "bad min");
    }

    void categoryBody() {
        auto c = category("{\"name\":\"Shoes\"}");
        CPPUNIT_ASSERT_EQUAL(std::string("Shoes"), c.name);
        CPPUNIT_ASSERT(!c.parent_id);
        c = category("{\"name\":\"Boots\",\"parent_id\":7}");
        CPPUNIT_ASSERT_EQUAL(std::int64_t(7), *c.parent_id);
        c = category("{\"name\":\"Boots\",\"parent_id\":null}");
        CPPUNIT_ASSERT(!c.parent_id);
        c = category("{\"name\":\"Boots\",\"parent_id\":\"8\"}");
        CPPUNIT_ASSERT_EQUAL(std::int64_t(8), *c.parent_id);
    }

    void categoryNameLimitsCountCharacters() {
        CPPUNIT_ASSERT_EQUAL(std::size_t(200),
                             category("{\"name\":\"" + repeat("a", 200) + "\"}").name.size());
        expect_field_errors([] { category("{\"name\":\"" + repeat("a", 201) + "\"}"); }, {"name"},
                            "201 chars");
        // 200 two-byte characters are 400 bytes but still 200 characters.
        CPPUNIT_ASSERT_EQUAL(
            std::size_t(400),
            category("{\"name\":\"" + repeat("\xc3\xa9", 200) + "\"}").name.size());
        expect_field_errors([] { category("{\"name\":\"" + repeat("\xc3\xa9", 201) + "\"}"); },
                            {"name"}, "201 chars");
    }

    void categoryNameMayBeANumber() {
        // As DRF's CharField does, a JSON number is taken as its text.
        CPPUNIT_ASSERT_EQUAL(std::string("42"), category("{\"name\":42}").name);
    }

    void categoryBodyErrors() {
        expect_field_errors([] { category("{}"); }, {"name"}, "missing name");
        expect_field_errors([] { category("{\"name\":\"  \"}"); }, {"name"}, "blank name");
        expect_field_errors([] { category("{\"name\":\"\"}"); }, {"name"}, "empty name");
        expect_field_errors([] { category("{\"name\":null}"); }, {"name"}, "null name");
        expect_field_errors([] { category("{\"name\":true}"); }, {"name"}, "boolean name");
        expect_field_errors([] { category("{\"name\":{}}"); }, {"name"}, "object name");
        expect_field_errors([] { category("{\"name\":\"a\\u0000b\"}"); }, {"name"}, "NUL");
        expect_field_errors([] { category("{\"name\":\"x\",\"parent_id\":\"abc\"}"); },
                            {"parent_id"}, "bad parent");
        expect_field_errors([] { category("{\"name\":\"x\",\"parent_id\":0}"); }, {"parent_id"},
                            "zero parent");
        expect_field_errors([] { category("{\"name\":\"x\",\"parent_id\":1.5}"); }, {"parent_id"},
                            "decimal parent");
        expect_field_errors([] { category("{\"name\":[],\"parent_id\":-3}"); },
                            {"name", "parent_id"}, "both at once");
    }

    void productWithoutVariants() {
        const auto p = product("{\"name\":\"Desk\",\"category_id\":3,\"base_price\":\"500\"}");
        CPPUNIT_ASSERT_EQUAL(std::string("Desk"), p.name);
        CPPUNIT_ASSERT_EQUAL(std::string(), p.description);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(3), p.category_id);
        CPPUNIT_ASSERT_EQUAL(Cents(50000), p.base_price);
        CPPUNIT_ASSERT(p.variants.empty());
        CPPUNIT_ASSERT(product(with_variants("[]")).variants.empty());
        CPPUNIT_ASSERT(product(with_variants("null")).variants.empty());
        CPPUNIT_ASSERT_EQUAL(
            std::string("Oak."),
            product("{\"name\":\"D\",\"description\":\"Oak.\",\"category_id\":3,\"base_price\":1}")
                .description);
        CPPUNIT_ASSERT_EQUAL(
            std::string(),
            product("{\"name\":\"D\",\"description\":\"\",\"category_id\":3,\"base_price\":1}")
                .description);
    }

    void productWithVariantsAndDefaults() {
        const auto p = product(with_variants(
            "[{\"sku\":\"A-1\",\"name\":\"Small\",\"price_delta\":\"-2.50\",\"stock\":7},"
            "{\"sku\":\"A-2\",\"name\":\"Large\"}]"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), p.variants.size());
        CPPUNIT_ASSERT_EQUAL(std::string("A-1"), p.variants[0].sku);
        CPPUNIT_ASSERT_EQUAL(std::string("Small"), p.variants[0].name);
        CPPUNIT_ASSERT_EQUAL(Cents(-250), p.variants[0].price_delta);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(7), p.variants[0].stock);
        CPPUNIT_ASSERT_EQUAL(Cents(0), p.variants[1].price_delta);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), p.variants[1].stock);
    }

    void productMoneyRules() {
        // JSON numbers are read from their text, never through binary floating point.
        CPPUNIT_ASSERT_EQUAL(Cents(1250), product(with_variants("[]", "12.5")).base_price);
        CPPUNIT_ASSERT_EQUAL(Cents(0), product(with_variants("[]", "\"0.00\"")).base_price);
        CPPUNIT_ASSERT_EQUAL(Cents(999999999999),
                             product(with_variants("[]", "\"9999999999.99\"")).base_price);
        for (const char *bad : {"\"-0.01\"", "-1", "\"1.005\"", "\"abc\"", "1e3", "\"\"", "true",
                                "{}", "\"10000000000.00\""})
            expect_field_errors([&] { product(with_variants("[]", bad)); }, {"base_price"}, bad);
    }

    void productRequiredFieldsAllAtOnce() {
        expect_field_errors([] { product("{}"); }, {"name", "category_id", "base_price"},
                            "empty body");
        expect_field_errors(
            [] { product("{\"variants\":[{}]}"); },
            {"name", "category_id", "base_price", "variants[0].sku", "variants[0].name"},
            "product and variant fields together");
    }

    void productWrongTypes() {
        expect_field_errors(
            [] {
                product(
                    "{\"name\":[],\"description\":false,\"category_id\":\"x\",\"base_price\":[],\"variants\":{}}");
            },
            {"name", "description", "category_id", "base_price", "variants"},
            "every field of the wrong type");
        expect_field_errors([] { product(with_variants("[1, \"x\"]")); },
                            {"variants[0]", "variants[1]"}, "variant entries that are not objects");
        expect_field_errors([] { product(with_variants("\"A-1\"")); }, {"variants"},
                            "variants as a string");
        expect_field_errors(
            [] {
                product("{\"name\":\"" + repeat("n", 201) +
                        "\",\"category_id\":1,\"base_price\":1}");
            },
            {"name"}, "long name");
    }

    void nestedVariantErrorsAreIndexed() {
        expect_field_errors(
            [] {
                product(with_variants(
                    "[{\"sku\":\"OK-1\",\"name\":\"ok\"},"
                    "{\"sku\":\"\",\"name\":\"x\",\"price_delta\":\"1.001\",\"stock\":-1},"
                    "{\"sku\":\"" +
                    repeat("s", 65) + "\",\"name\":\"" + repeat("n", 201) + "\"}]"));
            },
            {"variants[1].sku", "variants[1].price_delta", "variants[1].stock", "variants[2].sku",
             "variants[2].name"},
            "errors of several variants");
        // 64 characters is the SKU limit.
        CPPUNIT_ASSERT_EQUAL(
            std::size_t(64),
            product(with_variants("[{\"sku\":\"" + repeat("s", 64) + "\",\"name\":\"x\"}]"))
                .variants[0]
                .sku.size());
    }

    void duplicateSkuWithinRequest() {
        expect_field_errors(
            [] {
                product(with_variants(
                    "[{\"sku\":\"D-1\",\"name\":\"a\"},{\"sku\":\"D-2\",\"name\":\"b\"},"
                    "{\"sku\":\"D-1\",\"name\":\"c\"}]"));
            },
            {"variants[2].sku"}, "repeated SKU");
        // SKUs are case-sensitive, as the unique index is.
        CPPUNIT_ASSERT_EQUAL(
            std::size_t(2),
            product(with_variants(
                        "[{\"sku\":\"d-1\",\"name\":\"a\"},{\"sku\":\"D-1\",\"name\":\"b\"}]"))
                .variants.size());
    }

    void variantPriceMayNotGoBelowZero() {
        CPPUNIT_ASSERT_EQUAL(
            Cents(-1000),
            product(with_variants("[{\"sku\":\"N-1\",\"name\":\"a\",\"price_delta\":\"-10.00\"}]"))
                .variants[0]
                .price_delta);
        expect_field_errors(
            [] {
                product(
                    with_variants("[{\"sku\":\"N-1\",\"name\":\"a\",\"price_delta\":\"-10.01\"}]"));
            },
            {"variants[0].price_delta"}, "base 10.00 + delta -10.01");
        // With no valid base price there is nothing to check the delta against.
        expect_field_errors(
            [] {
                product(with_variants(
                    "[{\"sku\":\"N-1\",\"name\":\"a\",\"price_delta\":\"-10.01\"}]", "\"x\""));
            },
            {"base_price"}, "bad base price");
    }

    void variantStockBounds() {
        CPPUNIT_ASSERT_EQUAL(
            std::int64_t(1000000000),
            product(with_variants("[{\"sku\":\"S\",\"name\":\"a\",\"stock\":1000000000}]"))
                .variants[0]
                .stock);
        CPPUNIT_ASSERT_EQUAL(
            std::int64_t(5),
            product(with_variants("[{\"sku\":\"S\",\"name\":\"a\",\"stock\":\"5\"}]"))
                .variants[0]
                .stock);
        for (const char *bad : {"-1", "1000000001", "1.5", "\"x\"", "true", "99999999999999999999"})
            expect_field_errors(
                [&] {
                    product(with_variants(std::string("[{\"sku\":\"S\",\"name\":\"a\",\"stock\":") +
                                          bad + "}]"));
                },
                {"variants[0].stock"}, bad);
    }

    void tooManyVariants() {
        std::string list = "[";
        for (int i = 0; i < 1001; ++i)
            list += (i ? "," : "") + std::string("{\"sku\":\"V") + std::to_string(i) +
                    "\",\"name\":\"v\"}";
        expect_field_errors([&] { product(with_variants(list + "]")); }, {"variants"},
                            "1001 variants");
    }

    void standaloneVariantBody() {
        auto v = variant(
            "{\"product_id\":4,\"sku\":\"X-1\",\"name\":\"Red\",\"price_delta\":\"1.50\",\"stock\":3}");
        CPPUNIT_ASSERT_EQUAL(std::int64_t(4), v.product_id);
        CPPUNIT_ASSERT_EQUAL(std::string("X-1"), v.variant.sku);
        CPPUNIT_ASSERT_EQUAL(std::string("Red"), v.variant.name);
        CPPUNIT_ASSERT_EQUAL(Cents(150), v.variant.price_delta);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(3), v.variant.stock);
        v = variant("{\"product_id\":\"4\",\"sku\":\"X-1\",\"name\":\"Red\"}");
        CPPUNIT_ASSERT_EQUAL(Cents(0), v.variant.price_delta);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), v.variant.stock);
    }

    void standaloneVariantErrors() {
        expect_field_errors([] { variant("{}"); }, {"product_id", "sku", "name"}, "empty body");
        expect_field_errors(
            [] {
                variant(
                    "{\"product_id\":-4,\"sku\":true,\"name\":\"a\",\"price_delta\":\"x\",\"stock\":-2}");
            },
            {"product_id", "sku", "price_delta", "stock"}, "all wrong");
    }

    void inventoryBody() {
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), inventory("{\"stock\":0}"));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(25), inventory("{\"stock\":\"25\"}"));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1000000000), inventory("{\"stock\":1000000000}"));
        for (const char *bad : {"{}", "{\"stock\":-1}", "{\"stock\":1000000001}", "{\"stock\":2.5}",
                                "{\"stock\":null}", "{\"stock\":\"many\"}", "{\"stock\":[1]}"})
            expect_field_errors([&] { inventory(bad); }, {"stock"}, bad);
    }

    void checkVariantPrice() {
        FieldErrors errors;
        check_variant_price(1000, -1000, "price_delta", errors);
        check_variant_price(0, 0, "price_delta", errors);
        check_variant_price(0, 500, "price_delta", errors);
        CPPUNIT_ASSERT(errors.empty());
        check_variant_price(1000, -1001, "variants[3].price_delta", errors);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), errors.count("variants[3].price_delta"));
    }

    void categoryPutNeedsEveryField() {
        auto c = category_changes("{\"name\":\"Shoes\",\"parent_id\":3}", UpdateMode::PUT);
        CPPUNIT_ASSERT_EQUAL(std::string("Shoes"), *c.name);
        CPPUNIT_ASSERT(c.parent_given);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(3), *c.parent_id);
        c = category_changes("{\"name\":\"Shoes\",\"parent_id\":null}", UpdateMode::PUT);
        CPPUNIT_ASSERT(c.parent_given && !c.parent_id);  // a root
        expect_field_errors([] { category_changes("{}", UpdateMode::PUT); }, {"name", "parent_id"},
                            "empty PUT");
        expect_field_errors([] { category_changes("{\"name\":\"x\"}", UpdateMode::PUT); },
                            {"parent_id"}, "PUT without parent_id");
        // The slug is read-only: ignored, as DRF ignores read-only fields.
        c = category_changes("{\"name\":\"x\",\"parent_id\":null,\"slug\":\"y\",\"id\":9}",
                             UpdateMode::PUT);
        CPPUNIT_ASSERT_EQUAL(std::string("x"), *c.name);
    }

    void categoryPatchParent() {
        auto c = category_changes("{}", UpdateMode::PATCH);
        CPPUNIT_ASSERT(!c.name && !c.parent_given);
        c = category_changes("{\"parent_id\":null}", UpdateMode::PATCH);
        CPPUNIT_ASSERT(!c.name && c.parent_given && !c.parent_id);
        c = category_changes("{\"parent_id\":\"12\"}", UpdateMode::PATCH);
        CPPUNIT_ASSERT(c.parent_given);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(12), *c.parent_id);
        c = category_changes("{\"name\":\"Boots\"}", UpdateMode::PATCH);
        CPPUNIT_ASSERT_EQUAL(std::string("Boots"), *c.name);
        CPPUNIT_ASSERT(!c.parent_given);
    }

    void categoryChangesErrors() {
        for (const auto mode : {UpdateMode::PUT, UpdateMode::PATCH}) {
            expect_field_errors([&] { category_changes("{\"name\":\" \",\"parent_id\":0}", mode); },
                                {"name", "parent_id"}, "blank name, parent 0");
            expect_field_errors(
                [&] { category_changes("{\"name\":null,\"parent_id\":\"x\"}", mode); },
                {"name", "parent_id"}, "null name, parent x");
            expect_field_errors(
                [&] {
                    category_changes("{\"name\":\"" + repeat("a", 201) + "\",\"parent_id\":1}",
                                     mode);
                },
                {"name"}, "201 chars");
        }
    }

    void productPutNeedsEveryField() {
        const auto p = product_changes(
            "{\"name\":\"Desk\",\"description\":\"\",\"category_id\":2,\"base_price\":\"9.99\"}",
            UpdateMode::PUT);
        CPPUNIT_ASSERT_EQUAL(std::string("Desk"), *p.name);
        CPPUNIT_ASSERT_EQUAL(std::string(), *p.description);  // blank is a value
        CPPUNIT_ASSERT_EQUAL(std::int64_t(2), *p.category_id);
        CPPUNIT_ASSERT_EQUAL(Cents(999), *p.base_price);
        expect_field_errors([] { product_changes("{}", UpdateMode::PUT); },
                            {"name", "description", "category_id", "base_price"}, "empty PUT");
        expect_field_errors(
            [] {
                product_changes("{\"name\":\"Desk\",\"category_id\":2,\"base_price\":1}",
                                UpdateMode::PUT);
            },
            {"description"}, "PUT without description");
    }

    void productPatchTakesAnySubset() {
        auto p = product_changes("{}", UpdateMode::PATCH);
        CPPUNIT_ASSERT(!p.name && !p.description && !p.category_id && !p.base_price);
        p = product_changes("{\"base_price\":12.5,\"variants\":[],\"id\":3}", UpdateMode::PATCH);
        CPPUNIT_ASSERT(!p.name && !p.description && !p.category_id);
        CPPUNIT_ASSERT_EQUAL(Cents(1250), *p.base_price);
    }

    void productChangesErrors() {
        expect_field_errors(
            [] {
                product_changes(
                    "{\"name\":null,\"description\":null,\"category_id\":null,\"base_price\":null}",
                    UpdateMode::PATCH);
            },
            {"name", "description", "category_id", "base_price"}, "nulls in PATCH");
        expect_field_errors(
            [] {
                product_changes(
                    "{\"name\":[],\"description\":false,\"category_id\":\"x\",\"base_price\":\"-1\"}",
                    UpdateMode::PATCH);
            },
            {"name", "description", "category_id", "base_price"}, "wrong types in PATCH");
        expect_field_errors(
            [] { product_changes("{\"base_price\":\"1.005\"}", UpdateMode::PATCH); },
            {"base_price"}, "3 decimals");
    }

    void variantPutNeedsEveryField() {
        const auto v = variant_changes(
            "{\"sku\":\"A-1\",\"name\":\"Red\",\"price_delta\":\"-2.50\",\"stock\":4}",
            UpdateMode::PUT);
        CPPUNIT_ASSERT_EQUAL(std::string("A-1"), *v.sku);
        CPPUNIT_ASSERT_EQUAL(std::string("Red"), *v.name);
        CPPUNIT_ASSERT_EQUAL(Cents(-250), *v.price_delta);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(4), *v.stock);
        expect_field_errors([] { variant_changes("{}", UpdateMode::PUT); },
                            {"sku", "name", "price_delta", "stock"}, "empty PUT");
    }

    void variantPatchTakesAnySubset() {
        auto v = variant_changes("{}", UpdateMode::PATCH);
        CPPUNIT_ASSERT(!v.sku && !v.name && !v.price_delta && !v.stock);
        v = variant_changes("{\"stock\":\"7\",\"product_id\":99,\"reserved\":3}",
                            UpdateMode::PATCH);
        CPPUNIT_ASSERT(!v.sku && !v.name && !v.price_delta);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(7), *v.stock);
    }

    void variantChangesErrors() {
        expect_field_errors(
            [] {
                variant_changes("{\"sku\":\"" + repeat("s", 65) +
                                    "\",\"name\":\"\",\"price_delta\":\"x\",\"stock\":-1}",
                                UpdateMode::PATCH);
            },
            {"sku", "name", "price_delta", "stock"}, "every field wrong");
        expect_field_errors(
            [] { variant_changes("{\"sku\":null,\"stock\":null}", UpdateMode::PATCH); },
            {"sku", "stock"}, "nulls in PATCH");
        expect_field_errors([] { variant_changes("{\"stock\":1000000001}", UpdateMode::PATCH); },
                            {"stock"}, "stock too large");
    }

    void applyChangesReplacesNamedFieldsOnly() {
        Category c{5, "Shoes", "shoes", std::int64_t(2)};
        CategoryChanges cc;
        cc.name = "Boots";
        apply_changes(c, cc);
        CPPUNIT_ASSERT_EQUAL(std::string("Boots"), c.name);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(2), *c.parent_id);
        CPPUNIT_ASSERT_EQUAL(std::string("shoes"), c.slug);  // slug stays
        cc.parent_given = true;
        apply_changes(c, cc);
        CPPUNIT_ASSERT(!c.parent_id);

        Product p;
        p.name = "Desk";
        p.description = "Oak.";
        p.category_id = 3;
        p.base_price = 100;
        ProductChanges pc;
        pc.base_price = 250;
        apply_changes(p, pc);
        CPPUNIT_ASSERT_EQUAL(Cents(250), p.base_price);
        CPPUNIT_ASSERT_EQUAL(std::string("Oak."), p.description);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(3), p.category_id);

        Variant v{11, 9, "DESK-L", "Large", 5000, 40, 3};
        VariantChanges vc;
        vc.sku = "DESK-XL";
        vc.stock = 50;
        apply_changes(v, vc);
        CPPUNIT_ASSERT_EQUAL(std::string("DESK-XL"), v.sku);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(50), v.stock);
        CPPUNIT_ASSERT_EQUAL(std::string("Large"), v.name);
        CPPUNIT_ASSERT_EQUAL(Cents(5000), v.price_delta);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(3), v.reserved);
    }

    void stockMustCoverReserved() {
        check_stock_covers_reserved(5, 5);
        check_stock_covers_reserved(5, 0);
        try {
            check_stock_covers_reserved(4, 5);
        } catch (const ClientError &e) {
            CPPUNIT_ASSERT_EQUAL(409, e.status);
            CPPUNIT_ASSERT_MESSAGE(e.detail, e.detail.find("5 units") != std::string::npos);
            return;
        }
        CPPUNIT_FAIL("stock 4 under 5 reserved was accepted");
    }

    void rendersCategory() {
        Category c{5, "Men's \"Shoes\"", "men-s-shoes", std::nullopt};
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"({"id":5,"name":"Men's \"Shoes\"","slug":"men-s-shoes","parent_id":null})"),
            render_json([&](JsonWriter &w) { write_category(w, c); }));
        c.parent_id = 2;
        CPPUNIT_ASSERT_EQUAL(
            std::string(R"({"id":5,"name":"Men's \"Shoes\"","slug":"men-s-shoes","parent_id":2})"),
            render_json([&](JsonWriter &w) { write_category(w, c); }));
    }

    void rendersProductWithVariants() {
        Product p;
        p.id = 9;
        p.name = "Oak Desk";
        p.description = "Solid oak.";
        p.category_id = 3;
        p.base_price = 50000;
        p.variants.push_back(Variant{11, 9, "DESK-L", "Large", 5000, 40, 3});
        p.variants.push_back(Variant{12, 9, "DESK-S", "Small", -1005, 0, 0});
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"({"id":9,"name":"Oak Desk","description":"Solid oak.","category_id":3,"base_price":"500.00",)"
                R"("variants":[{"id":11,"product_id":9,"sku":"DESK-L","name":"Large","price_delta":"50.00",)"
                R"("stock":40,"reserved":3,"available":37},)"
                R"({"id":12,"product_id":9,"sku":"DESK-S","name":"Small","price_delta":"-10.05",)"
                R"("stock":0,"reserved":0,"available":0}]})"),
            render_json([&](JsonWriter &w) { write_product(w, p); }));
    }

    void rendersPageEnvelope() {
        const std::vector<Category> items{{1, "A", "a", std::nullopt}};
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"({"count":3,"next":"http://h/api/categories/?page=2","previous":null,"results":)"
                R"([{"id":1,"name":"A","slug":"a","parent_id":null}]})"),
            render_page(3, std::string("http://h/api/categories/?page=2"), std::nullopt, items,
                        write_category));
        CPPUNIT_ASSERT_EQUAL(
            std::string(R"({"count":0,"next":null,"previous":null,"results":[]})"),
            render_page(0, std::nullopt, std::nullopt, std::vector<Category>{}, write_category));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CatalogTest);
