// Integration tests of the catalog routes through nginx + shopd + PostgreSQL. The database is
// shared with other tests: every name and SKU is unique to this run, and "nothing written" is
// checked by looking for those names, never by assuming empty tables.
#include "http_client.hpp"

#include <cppunit/extensions/HelperMacros.h>
#include <pqxx/pqxx>

#include <cctype>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

using namespace shopd::test;

namespace {

std::string str(const rapidjson::Value &v) {
    return std::string(v.GetString(), v.GetStringLength());
}

std::string quoted(const std::string &s) { return "\"" + s + "\""; }

/// An integer member as long long, the type the tests compare ids and counts in.
long long int64(const rapidjson::Value &v) { return v.GetInt64(); }

/// The "count" of a list response: items on all its pages.
long long count_of(const rapidjson::Value &list) { return int64(list["count"]); }

std::string variant_path(long long id) { return "/api/variants/" + std::to_string(id) + "/"; }
std::string inventory_path(long long id) { return variant_path(id) + "inventory/"; }

long long scalar(const std::string &sql, const std::string &param) {
    pqxx::connection c(env("SHOPD_DATABASE_URL"));
    pqxx::read_transaction tx(c);
    return tx.exec_params1(sql, param)[0].as<long long>();
}

long long products_named(const std::string &name) {
    return scalar("SELECT count(*) FROM products WHERE name = $1", name);
}
long long categories_named(const std::string &name) {
    return scalar("SELECT count(*) FROM categories WHERE name = $1", name);
}
long long variants_with_sku(const std::string &sku) {
    return scalar("SELECT count(*) FROM variants WHERE sku = $1", sku);
}

void set_reserved(long long variant_id, int reserved) {
    pqxx::connection c(env("SHOPD_DATABASE_URL"));
    pqxx::work tx(c);
    tx.exec_params("UPDATE variants SET reserved = $2 WHERE id = $1", variant_id, reserved);
    tx.commit();
}

/// Another client's transaction that holds the row lock of a variant, as a checkout reserving
/// it does, until it commits or aborts.
struct VariantRowLock {
    explicit VariantRowLock(long long variant) : conn(env("SHOPD_DATABASE_URL")), tx(conn) {
        tx.exec_params("SELECT 1 FROM variants WHERE id = $1 FOR UPDATE", variant);
    }
    pqxx::connection conn;
    pqxx::work tx;
};

/// Asserts a 400 validation problem whose "errors" has `field`.
void assert_field_error(const Response &r, const std::string &field, const std::string &what) {
    assert_problem(r, 400, what.c_str());
    const auto d = r.json();
    CPPUNIT_ASSERT_MESSAGE(
        what + ": no errors." + field + " in " + r.describe(),
        d.HasMember("errors") && d["errors"].IsObject() && d["errors"].HasMember(field.c_str()) &&
            d["errors"][field.c_str()].IsArray() && d["errors"][field.c_str()].Size() > 0);
}

/// The "name" of each result of a list response, in order.
std::vector<std::string> result_names(const rapidjson::Document &d) {
    std::vector<std::string> out;
    for (const auto &item : d["results"].GetArray()) out.push_back(str(item["name"]));
    return out;
}

/// Admin client with creation helpers that fail the test unless the API answers 201.
struct Api {
    Http http;

    Response post(const std::string &path, const std::string &body) {
        return http.post(path, body, admin_token());
    }

    rapidjson::Document created(const Response &r, const std::string &what) {
        CPPUNIT_ASSERT_EQUAL_MESSAGE(what + ": " + r.describe(), 201L, r.status);
        return r.json();
    }

    long long category(const std::string &name, long long parent = 0) {
        const std::string body = "{\"name\":" + quoted(name) +
                                 (parent ? ",\"parent_id\":" + std::to_string(parent) : "") + "}";
        return created(post("/api/categories/", body), "create category")["id"].GetInt64();
    }

    rapidjson::Document product(const std::string &name, long long category,
                                const std::string &price = "\"10.00\"",
                                const std::string &variants = "") {
        const std::string body = "{\"name\":" + quoted(name) +
                                 ",\"category_id\":" + std::to_string(category) +
                                 ",\"base_price\":" + price +
                                 (variants.empty() ? "" : ",\"variants\":" + variants) + "}";
        return created(post("/api/products/", body), "create product " + name);
    }

    rapidjson::Document get(const std::string &path) {
        const auto r = http.get(path);
        CPPUNIT_ASSERT_EQUAL_MESSAGE("GET " + path + ": " + r.describe(), 200L, r.status);
        return r.json();
    }

    /// A new product (in a new category) with one variant of `stock` units, every name made
    /// unique from `tag`; returns the variant's id.
    long long variant_with_stock(const std::string &tag, int stock) {
        const auto p = product(unique(tag), category(unique(tag)), "\"10.00\"",
                               "[{\"sku\":" + quoted(unique(tag)) +
                                   ",\"name\":\"x\",\"stock\":" + std::to_string(stock) + "}]");
        return int64(p["variants"][0]["id"]);
    }

    /// The stock GET /api/variants/{id}/ reports.
    int stock_of(long long variant) { return get(variant_path(variant))["stock"].GetInt(); }

    /// GETs one page of a list: `count` items in all, `size` of them on this page.
    rapidjson::Document page(const std::string &path, long long count, unsigned size) {
        auto d = get(path);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(path, count, count_of(d));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(path, size, d["results"].Size());
        return d;
    }

    /// Walks a list of 5 items asked for in pages of 2 (`path` says page_size=2) by its "next"
    /// links: 2, 2 and 1 results, "previous" on all but the first page, "next" on all but the
    /// last, and no page 4. Returns the three pages.
    std::vector<rapidjson::Document> five_in_pages_of_two(const std::string &path) {
        std::vector<rapidjson::Document> pages;
        std::string url = path;
        for (const unsigned size : {2u, 2u, 1u}) {
            pages.push_back(page(url, 5, size));
            const auto &d = pages.back();
            CPPUNIT_ASSERT_EQUAL_MESSAGE(url, pages.size() == 1, d["previous"].IsNull());
            CPPUNIT_ASSERT_EQUAL_MESSAGE(url, pages.size() == 3, d["next"].IsNull());
            if (!d["next"].IsNull()) url = str(d["next"]);
        }
        assert_problem(http.get(path + "&page=4"), 404, "page past the end");
        return pages;
    }
};

}  // namespace

class CatalogITest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CatalogITest);
    CPPUNIT_TEST(categoryCreateGetAndSlugSuffixes);
    CPPUNIT_TEST(concurrentSameNameCategoriesGetDistinctSlugs);
    CPPUNIT_TEST(categoryErrorsWriteNothing);
    CPPUNIT_TEST(categoryListByParentPaginates);
    CPPUNIT_TEST(productWithoutVariantsGetsDefaultVariant);
    CPPUNIT_TEST(productWithVariants);
    CPPUNIT_TEST(productValidationErrors);
    CPPUNIT_TEST(productWithDuplicateSkuWritesNothing);
    CPPUNIT_TEST(productCategoryFilterIncludesDescendants);
    CPPUNIT_TEST(productSearchIsCaseInsensitiveAndLiteral);
    CPPUNIT_TEST(productOrdering);
    CPPUNIT_TEST(productPagination);
    CPPUNIT_TEST(pageSizeIsCappedAt100);
    CPPUNIT_TEST(variantCreateGetAndList);
    CPPUNIT_TEST(variantErrorsWriteNothing);
    CPPUNIT_TEST(inventoryUpdate);
    CPPUNIT_TEST(inventoryBelowReservedIs409);
    CPPUNIT_TEST(inventoryWaitsForTheRowLock);
    CPPUNIT_TEST(inventoryLockTimeoutIs409);
    CPPUNIT_TEST(inventoryErrors);
    CPPUNIT_TEST(unknownIdsAre404);
    CPPUNIT_TEST(writesNeedAdminBeforeBodyChecks);
    CPPUNIT_TEST(deeplyNestedBodyIs400);
    CPPUNIT_TEST_SUITE_END();

public:
    void categoryCreateGetAndSlugSuffixes() {
        Api api;
        const std::string tag = unique("Shoes");
        const std::string name = "Men's " + tag + "!";
        auto r = api.post("/api/categories/", "{\"name\":" + quoted(name) + "}");
        auto d = api.created(r, "first");
        // unique() is "<prefix>-<pid>-<time>-<n>": lower-cased, and the apostrophe becomes '-'.
        std::string base = "men-s-" + tag;
        for (auto &c : base) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        CPPUNIT_ASSERT_EQUAL(base, str(d["slug"]));
        CPPUNIT_ASSERT_EQUAL(name, str(d["name"]));
        CPPUNIT_ASSERT(d["parent_id"].IsNull());
        const long long id = d["id"].GetInt64();

        const auto got = api.get("/api/categories/" + std::to_string(id) + "/");
        CPPUNIT_ASSERT_EQUAL(id, int64(got["id"]));
        CPPUNIT_ASSERT_EQUAL(base, str(got["slug"]));
        CPPUNIT_ASSERT(got["parent_id"].IsNull());

        CPPUNIT_ASSERT_EQUAL(
            base + "-2",
            str(api.created(api.post("/api/categories/", "{\"name\":" + quoted(name) + "}"),
                            "second")["slug"]));
        CPPUNIT_ASSERT_EQUAL(
            base + "-3",
            str(api.created(api.post("/api/categories/", "{\"name\":" + quoted(name) + "}"),
                            "third")["slug"]));

        const auto child = api.created(
            api.post("/api/categories/",
                     "{\"name\":\"" + tag + " kids\",\"parent_id\":" + std::to_string(id) + "}"),
            "child");
        CPPUNIT_ASSERT_EQUAL(id, int64(child["parent_id"]));
        // Without the trailing slash the route is the same.
        CPPUNIT_ASSERT_EQUAL(200L, api.http.get("/api/categories/" + std::to_string(id)).status);
    }

    void concurrentSameNameCategoriesGetDistinctSlugs() {
        const std::string name = unique("Race");
        constexpr int kThreads = 6;
        std::vector<Response> responses(kThreads);
        std::vector<std::thread> threads;
        for (int i = 0; i < kThreads; ++i)
            threads.emplace_back([&, i] {
                Http http;
                responses[i] =
                    http.post("/api/categories/", "{\"name\":" + quoted(name) + "}", admin_token());
            });
        for (auto &t : threads) t.join();
        std::set<std::string> slugs;
        for (const auto &r : responses) {
            CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201L, r.status);
            slugs.insert(str(r.json()["slug"]));
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(kThreads), slugs.size());
        CPPUNIT_ASSERT_EQUAL(static_cast<long long>(kThreads), categories_named(name));
    }

    void categoryErrorsWriteNothing() {
        Api api;
        const std::string name = unique("Nothing");
        const std::string body = "{\"name\":" + quoted(name) + "}";
        assert_problem(api.http.post("/api/categories/", body), 401, "no token");
        assert_problem(api.http.post("/api/categories/", body, "wrong-token"), 401, "wrong token");
        assert_problem(api.http.post("/api/categories/", body, admin_token(),
                                     {{"Content-Type", "text/plain"}}),
                       415, "text/plain");
        assert_problem(api.post("/api/categories/", "{\"name\":"), 400, "malformed JSON");
        assert_problem(api.post("/api/categories/", "[]"), 400, "array body");
        assert_field_error(api.post("/api/categories/", "{\"name\":\"  \"}"), "name", "blank name");
        assert_field_error(api.post("/api/categories/", "{\"name\":[\"x\"]}"), "name",
                           "list as name");
        assert_field_error(
            api.post("/api/categories/", "{\"name\":\"" + std::string(201, 'x') + "\"}"), "name",
            "201 chars");
        assert_problem(api.post("/api/categories/", "{\"name\":\"bad \xff\"}"), 400,
                       "invalid UTF-8");
        assert_field_error(
            api.post("/api/categories/", "{\"name\":" + quoted(name) + ",\"parent_id\":\"x\"}"),
            "parent_id", "parent_id not an id");
        assert_field_error(api.post("/api/categories/",
                                    "{\"name\":" + quoted(name) + ",\"parent_id\":999999999999}"),
                           "parent_id", "unknown parent");
        CPPUNIT_ASSERT_EQUAL(0LL, categories_named(name));
    }

    void categoryListByParentPaginates() {
        Api api;
        const long long parent = api.category(unique("Parent"));
        for (int i = 0; i < 5; ++i) api.category(unique("Child"), parent);
        const std::string path =
            "/api/categories/?parent=" + std::to_string(parent) + "&page_size=2";
        const auto pages = api.five_in_pages_of_two(path);
        for (const auto &c : pages[0]["results"].GetArray())
            CPPUNIT_ASSERT_EQUAL(parent, int64(c["parent_id"]));
        const std::string next = str(pages[0]["next"]);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(next, 0ul,
                                     next.find(api.http.base() + "/api/categories/?"));  // absolute
        CPPUNIT_ASSERT(next.find("parent=" + std::to_string(parent)) != std::string::npos);
        CPPUNIT_ASSERT(next.find("page=2") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(api.http.base() + path,
                             str(pages[1]["previous"]));  // DRF drops page=1
        api.page(path + "&page=3", 5, 1);
        assert_problem(api.http.get(path + "&page=0"), 404, "page 0");
        assert_problem(api.http.get(path + "&page=abc"), 404, "page abc");
        assert_field_error(api.http.get("/api/categories/?parent=abc"), "parent",
                           "parent not an id");
        api.page("/api/categories/?parent=999999999999", 0, 0);
    }

    void productWithoutVariantsGetsDefaultVariant() {
        Api api;
        const long long cat = api.category(unique("Desks"));
        const std::string name = unique("Desk");
        const auto r = api.post("/api/products/", "{\"name\":" + quoted(name) +
                                                      ",\"category_id\":" + std::to_string(cat) +
                                                      ",\"base_price\":12.5}");
        const auto d = api.created(r, "product");
        const long long id = d["id"].GetInt64();
        CPPUNIT_ASSERT_EQUAL(name, str(d["name"]));
        CPPUNIT_ASSERT_EQUAL(std::string(), str(d["description"]));
        CPPUNIT_ASSERT_EQUAL(cat, int64(d["category_id"]));
        CPPUNIT_ASSERT_EQUAL(std::string("12.50"),
                             str(d["base_price"]));  // money: a string, 2 decimals
        CPPUNIT_ASSERT_EQUAL(1u, d["variants"].Size());
        const auto &v = d["variants"][0];
        CPPUNIT_ASSERT_EQUAL("P" + std::to_string(id) + "-DEFAULT", str(v["sku"]));
        CPPUNIT_ASSERT_EQUAL(std::string("Default"), str(v["name"]));
        CPPUNIT_ASSERT_EQUAL(std::string("0.00"), str(v["price_delta"]));
        CPPUNIT_ASSERT_EQUAL(id, int64(v["product_id"]));
        CPPUNIT_ASSERT_EQUAL(0, v["stock"].GetInt());
        CPPUNIT_ASSERT_EQUAL(0, v["reserved"].GetInt());
        CPPUNIT_ASSERT_EQUAL(0, v["available"].GetInt());
        // GET shows exactly what POST answered.
        const auto got = api.http.get("/api/products/" + std::to_string(id) + "/");
        CPPUNIT_ASSERT_EQUAL(r.body, got.body);
    }

    void productWithVariants() {
        Api api;
        const long long cat = api.category(unique("Shirts"));
        const std::string a = unique("SKU-A"), b = unique("SKU-B");
        const auto d =
            api.product(unique("Shirt"), cat, "\"20.00\"",
                        "[{\"sku\":" + quoted(a) +
                            ",\"name\":\"M\",\"price_delta\":\"-5.00\",\"stock\":3},"
                            "{\"sku\":" +
                            quoted(b) + ",\"name\":\"L\",\"price_delta\":2,\"stock\":\"4\"}]");
        CPPUNIT_ASSERT_EQUAL(2u, d["variants"].Size());
        CPPUNIT_ASSERT_EQUAL(a, str(d["variants"][0]["sku"]));
        CPPUNIT_ASSERT_EQUAL(std::string("-5.00"), str(d["variants"][0]["price_delta"]));
        CPPUNIT_ASSERT_EQUAL(3, d["variants"][0]["available"].GetInt());
        CPPUNIT_ASSERT_EQUAL(b, str(d["variants"][1]["sku"]));
        CPPUNIT_ASSERT_EQUAL(std::string("2.00"), str(d["variants"][1]["price_delta"]));
        CPPUNIT_ASSERT_EQUAL(4, d["variants"][1]["stock"].GetInt());
        const auto list = api.get("/api/variants/?product=" + std::to_string(d["id"].GetInt64()));
        CPPUNIT_ASSERT_EQUAL(2LL, count_of(list));
        // The list of products carries the variants too.
        const auto products = api.get("/api/products/?category=" + std::to_string(cat));
        CPPUNIT_ASSERT_EQUAL(1u, products["results"].Size());
        CPPUNIT_ASSERT_EQUAL(2u, products["results"][0]["variants"].Size());
        CPPUNIT_ASSERT_EQUAL(a, str(products["results"][0]["variants"][0]["sku"]));
    }

    void productValidationErrors() {
        Api api;
        const long long cat = api.category(unique("Val"));
        const std::string name = unique("Invalid");
        const std::string head =
            "{\"name\":" + quoted(name) + ",\"category_id\":" + std::to_string(cat) + ",";
        assert_problem(api.post("/api/products/", "{\"name\":"), 400, "malformed JSON");
        assert_field_error(api.post("/api/products/", head + "\"base_price\":\"-1.00\"}"),
                           "base_price", "negative price");
        assert_field_error(api.post("/api/products/", head + "\"base_price\":\"1.005\"}"),
                           "base_price", "3 decimals");
        assert_field_error(api.post("/api/products/", head + "\"base_price\":true}"), "base_price",
                           "boolean price");
        assert_field_error(
            api.post("/api/products/", "{\"name\":" + quoted(name) +
                                           ",\"category_id\":999999999999,\"base_price\":1}"),
            "category_id", "unknown category");
        assert_field_error(
            api.post("/api/products/",
                     "{\"name\":" + quoted(name) + ",\"category_id\":\"abc\",\"base_price\":1}"),
            "category_id", "category not an id");
        assert_field_error(api.post("/api/products/", head + "\"base_price\":1,\"variants\":5}"),
                           "variants", "variants not a list");
        // All errors at once, nested ones keyed by index.
        const auto r = api.post(
            "/api/products/",
            "{\"name\":\"\",\"base_price\":\"x\",\"variants\":[{\"sku\":\"ok\",\"name\":\"a\"},"
            "{\"name\":\"b\",\"stock\":-1}]}");
        for (const char *field :
             {"name", "category_id", "base_price", "variants[1].sku", "variants[1].stock"})
            assert_field_error(r, field, std::string("all at once: ") + field);
        assert_field_error(
            api.post("/api/products/", head + "\"base_price\":\"5.00\",\"variants\":[{\"sku\":" +
                                           quoted(unique("N")) +
                                           ",\"name\":\"a\",\"price_delta\":\"-5.01\"}]}"),
            "variants[0].price_delta", "base + delta below zero");
        const std::string dup = unique("DUP");
        assert_field_error(
            api.post("/api/products/",
                     head + "\"base_price\":1,\"variants\":[{\"sku\":" + quoted(dup) +
                         ",\"name\":\"a\"},{\"sku\":" + quoted(dup) + ",\"name\":\"b\"}]}"),
            "variants[1].sku", "SKU twice in one request");
        CPPUNIT_ASSERT_EQUAL(0LL, products_named(name));
        CPPUNIT_ASSERT_EQUAL(0LL, variants_with_sku(dup));
    }

    void productWithDuplicateSkuWritesNothing() {
        Api api;
        const long long cat = api.category(unique("Dup"));
        const std::string taken = unique("TAKEN");
        api.product(unique("Owner"), cat, "\"1.00\"",
                    "[{\"sku\":" + quoted(taken) + ",\"name\":\"x\"}]");
        const std::string name = unique("Loser");
        const std::string first = unique("NEW-1"), second = unique("NEW-2");
        // Two good variants, then one whose SKU exists in the database: nothing may remain.
        const auto r = api.post("/api/products/", "{\"name\":" + quoted(name) +
                                                      ",\"category_id\":" + std::to_string(cat) +
                                                      ",\"base_price\":\"3.00\",\"variants\":["
                                                      "{\"sku\":" +
                                                      quoted(first) +
                                                      ",\"name\":\"a\"},"
                                                      "{\"sku\":" +
                                                      quoted(second) +
                                                      ",\"name\":\"b\"},"
                                                      "{\"sku\":" +
                                                      quoted(taken) + ",\"name\":\"c\"}]}");
        assert_field_error(r, "variants[2].sku", "SKU taken in the database");
        CPPUNIT_ASSERT_EQUAL(std::string("variant with this sku already exists."),
                             str(r.json()["errors"]["variants[2].sku"][0]));
        CPPUNIT_ASSERT_EQUAL(0LL, products_named(name));
        CPPUNIT_ASSERT_EQUAL(0LL, variants_with_sku(first));
        CPPUNIT_ASSERT_EQUAL(0LL, variants_with_sku(second));
        CPPUNIT_ASSERT_EQUAL(1LL, variants_with_sku(taken));
    }

    void productCategoryFilterIncludesDescendants() {
        Api api;
        const long long root = api.category(unique("Root"));
        const long long child = api.category(unique("Child"), root);
        const long long grandchild = api.category(unique("Grandchild"), child);
        const long long other = api.category(unique("Other"));
        const std::string in_root = unique("InRoot"), in_child = unique("InChild"),
                          in_grand = unique("InGrand");
        api.product(in_root, root);
        api.product(in_child, child);
        api.product(in_grand, grandchild);
        api.product(unique("Elsewhere"), other);

        auto d = api.get("/api/products/?category=" + std::to_string(root));
        CPPUNIT_ASSERT_EQUAL(3LL, count_of(d));
        CPPUNIT_ASSERT(result_names(d) == (std::vector<std::string>{in_root, in_child, in_grand}));
        d = api.get("/api/products/?category=" + std::to_string(child));
        CPPUNIT_ASSERT(result_names(d) == (std::vector<std::string>{in_child, in_grand}));
        d = api.get("/api/products/?category=" + std::to_string(grandchild));
        CPPUNIT_ASSERT(result_names(d) == (std::vector<std::string>{in_grand}));
        d = api.get("/api/products/?category=999999999999");
        CPPUNIT_ASSERT_EQUAL(0LL, count_of(d));
        assert_field_error(api.http.get("/api/products/?category=abc"), "category", "category abc");
        assert_field_error(api.http.get("/api/products/?category=-1"), "category", "category -1");
    }

    void productSearchIsCaseInsensitiveAndLiteral() {
        Api api;
        const long long cat = api.category(unique("Search"));
        const std::string token = unique("zq");  // lower case; products use it upper-cased
        std::string upper = token;
        for (auto &c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        api.product(upper + " 100% Cotton", cat);
        api.product(upper + " 1000 Cotton", cat);
        api.product(upper + " under_score", cat);
        api.product(upper + " underXscore", cat);

        auto d = api.get("/api/products/?search=" + token);
        CPPUNIT_ASSERT_EQUAL(4LL, count_of(d));
        // LIKE wildcards match only themselves.
        d = api.get("/api/products/?search=" + token + "%20100%25");
        CPPUNIT_ASSERT(result_names(d) == (std::vector<std::string>{upper + " 100% Cotton"}));
        d = api.get("/api/products/?search=" + token + "%20under_");
        CPPUNIT_ASSERT(result_names(d) == (std::vector<std::string>{upper + " under_score"}));
        d = api.get("/api/products/?search=COTTON&category=" + std::to_string(cat));
        CPPUNIT_ASSERT_EQUAL(2LL, count_of(d));
        d = api.get("/api/products/?search=" + unique("nothing-matches"));
        CPPUNIT_ASSERT_EQUAL(0LL, count_of(d));
        assert_field_error(api.http.get("/api/products/?search=%FF"), "search",
                           "invalid UTF-8 search");
    }

    void productOrdering() {
        Api api;
        const long long cat = api.category(unique("Order"));
        const std::string b = unique("b"), a = unique("a"), c = unique("c");
        api.product(b, cat, "\"30.00\"");
        api.product(a, cat, "\"10.00\"");
        api.product(c, cat, "\"20.00\"");
        const std::string path = "/api/products/?category=" + std::to_string(cat) + "&ordering=";
        using Names = std::vector<std::string>;
        CPPUNIT_ASSERT(result_names(api.get("/api/products/?category=" + std::to_string(cat))) ==
                       (Names{b, a, c}));
        CPPUNIT_ASSERT(result_names(api.get(path + "id")) == (Names{b, a, c}));
        CPPUNIT_ASSERT(result_names(api.get(path + "-id")) == (Names{c, a, b}));
        CPPUNIT_ASSERT(result_names(api.get(path + "name")) == (Names{a, b, c}));
        CPPUNIT_ASSERT(result_names(api.get(path + "-name")) == (Names{c, b, a}));
        CPPUNIT_ASSERT(result_names(api.get(path + "base_price")) == (Names{a, c, b}));
        CPPUNIT_ASSERT(result_names(api.get(path + "-base_price")) == (Names{b, c, a}));
        // Ordering survives pagination: page 2 of -base_price holds the next item.
        CPPUNIT_ASSERT(result_names(api.get(path + "-base_price&page_size=1&page=2")) ==
                       (Names{c}));
        assert_field_error(api.http.get(path + "price"), "ordering", "unknown ordering");
        assert_field_error(api.http.get(path + "created_at"), "ordering", "unknown field");
    }

    void productPagination() {
        Api api;
        const long long cat = api.category(unique("Pages"));
        for (int i = 0; i < 5; ++i) api.product(unique("Paged"), cat);
        std::set<long long> seen;
        for (const auto &d : api.five_in_pages_of_two(
                 "/api/products/?category=" + std::to_string(cat) + "&page_size=2"))
            for (const auto &p : d["results"].GetArray()) {
                CPPUNIT_ASSERT_EQUAL(1u, p["variants"].Size());
                seen.insert(int64(p["id"]));
            }
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), seen.size());  // no overlap, nothing skipped
        // An empty first page is still a page.
        const auto d = api.page("/api/products/?search=" + unique("none"), 0, 0);
        CPPUNIT_ASSERT(d["next"].IsNull() && d["previous"].IsNull());
        // A bad page_size falls back to the default (DRF).
        api.page("/api/products/?category=" + std::to_string(cat) + "&page_size=0", 5, 5);
    }

    void pageSizeIsCappedAt100() {
        Api api;
        const long long cat = api.category(unique("Big"));
        const std::string prefix = unique("BULK");
        std::string variants = "[";
        for (int i = 0; i < 101; ++i)
            variants += (i ? "," : "") + std::string("{\"sku\":\"") + prefix + "-" +
                        std::to_string(i) + "\",\"name\":\"v\"}";
        const auto p = api.product(unique("Bulk"), cat, "\"1.00\"", variants + "]");
        CPPUNIT_ASSERT_EQUAL(101u, p["variants"].Size());
        const auto d = api.page(
            "/api/variants/?product=" + std::to_string(p["id"].GetInt64()) + "&page_size=1000", 101,
            100);
        CPPUNIT_ASSERT(str(d["next"]).find("page=2") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(
            20u, api.get("/api/variants/?product=" + std::to_string(p["id"].GetInt64()))["results"]
                     .Size());
    }

    void variantCreateGetAndList() {
        Api api;
        const long long cat = api.category(unique("Var"));
        const long long product = api.product(unique("Mug"), cat, "\"12.50\"")["id"].GetInt64();
        const std::string sku = unique("MUG-BLK");
        const auto r =
            api.post("/api/variants/",
                     "{\"product_id\":" + std::to_string(product) + ",\"sku\":" + quoted(sku) +
                         ",\"name\":\"Black\",\"price_delta\":\"1.50\",\"stock\":150}");
        const auto d = api.created(r, "variant");
        const long long id = d["id"].GetInt64();
        CPPUNIT_ASSERT_EQUAL(product, int64(d["product_id"]));
        CPPUNIT_ASSERT_EQUAL(sku, str(d["sku"]));
        CPPUNIT_ASSERT_EQUAL(std::string("Black"), str(d["name"]));
        CPPUNIT_ASSERT_EQUAL(std::string("1.50"), str(d["price_delta"]));
        CPPUNIT_ASSERT_EQUAL(150, d["stock"].GetInt());
        CPPUNIT_ASSERT_EQUAL(0, d["reserved"].GetInt());
        CPPUNIT_ASSERT_EQUAL(150, d["available"].GetInt());
        CPPUNIT_ASSERT_EQUAL(r.body, api.http.get(variant_path(id)).body);

        // A delta that brings the price exactly to zero is fine.
        api.created(
            api.post("/api/variants/", "{\"product_id\":" + std::to_string(product) +
                                           ",\"sku\":" + quoted(unique("FREE")) +
                                           ",\"name\":\"Free\",\"price_delta\":\"-12.50\"}"),
            "zero-price variant");
        const auto list = api.get("/api/variants/?product=" + std::to_string(product));
        CPPUNIT_ASSERT_EQUAL(3LL, count_of(list));  // default + 2
        CPPUNIT_ASSERT_EQUAL(std::string("Default"), str(list["results"][0]["name"]));
        CPPUNIT_ASSERT_EQUAL(sku, str(list["results"][1]["sku"]));
        // The product shows its variants too.
        CPPUNIT_ASSERT_EQUAL(
            3u, api.get("/api/products/" + std::to_string(product) + "/")["variants"].Size());
        assert_field_error(api.http.get("/api/variants/?product=x"), "product",
                           "product not an id");
        api.page("/api/variants/?product=999999999999", 0, 0);
        CPPUNIT_ASSERT(count_of(api.get("/api/variants/")) >= 3);
    }

    void variantErrorsWriteNothing() {
        Api api;
        const long long cat = api.category(unique("VarErr"));
        const auto p = api.product(unique("Lamp"), cat, "\"5.00\"");
        const std::string product = std::to_string(p["id"].GetInt64());
        const std::string existing = str(p["variants"][0]["sku"]);
        const std::string sku = unique("LAMP");
        const std::string rest = ",\"name\":\"x\"}";

        auto r = api.post("/api/variants/",
                          "{\"product_id\":" + product + ",\"sku\":" + quoted(existing) + rest);
        assert_field_error(r, "sku", "duplicate SKU");
        CPPUNIT_ASSERT_EQUAL(std::string("variant with this sku already exists."),
                             str(r.json()["errors"]["sku"][0]));
        assert_field_error(api.post("/api/variants/",
                                    "{\"product_id\":999999999999,\"sku\":" + quoted(sku) + rest),
                           "product_id", "unknown product");
        assert_field_error(
            api.post("/api/variants/", "{\"product_id\":" + product + ",\"sku\":" + quoted(sku) +
                                           ",\"name\":\"x\",\"price_delta\":\"-5.01\"}"),
            "price_delta", "price below zero");
        assert_field_error(
            api.post("/api/variants/", "{\"product_id\":" + product + ",\"sku\":" + quoted(sku) +
                                           ",\"name\":\"x\",\"stock\":-1}"),
            "stock", "negative stock");
        assert_field_error(api.post("/api/variants/", "{\"product_id\":" + product + ",\"sku\":\"" +
                                                          std::string(65, 's') + "\"" + rest),
                           "sku", "SKU of 65 characters");
        assert_problem(api.post("/api/variants/", "{\"product_id\":"), 400, "malformed JSON");
        assert_problem(api.http.post("/api/variants/", "{\"product_id\":" + product +
                                                           ",\"sku\":" + quoted(sku) + rest),
                       401, "no token");
        CPPUNIT_ASSERT_EQUAL(0LL, variants_with_sku(sku));
        CPPUNIT_ASSERT_EQUAL(1LL, variants_with_sku(existing));
    }

    void inventoryUpdate() {
        Api api;
        const long long id = api.variant_with_stock("Boot", 0);
        auto r = api.http.put(inventory_path(id), "{\"stock\":10}", admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        auto d = r.json();
        CPPUNIT_ASSERT_EQUAL(10, d["stock"].GetInt());
        CPPUNIT_ASSERT_EQUAL(10, d["available"].GetInt());
        CPPUNIT_ASSERT_EQUAL(id, int64(d["id"]));
        r = api.http.put(inventory_path(id), "{\"stock\":0}", admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        CPPUNIT_ASSERT_EQUAL(0, r.json()["stock"].GetInt());
    }

    void inventoryBelowReservedIs409() {
        Api api;
        const long long id = api.variant_with_stock("Chair", 10);
        set_reserved(id, 4);
        assert_problem(api.http.put(inventory_path(id), "{\"stock\":3}", admin_token()), 409,
                       "stock below reserved");
        auto d = api.get(variant_path(id));
        CPPUNIT_ASSERT_EQUAL(10, d["stock"].GetInt());  // unchanged
        CPPUNIT_ASSERT_EQUAL(4, d["reserved"].GetInt());
        CPPUNIT_ASSERT_EQUAL(6, d["available"].GetInt());
        const auto r = api.http.put(inventory_path(id), "{\"stock\":4}", admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        d = r.json();
        CPPUNIT_ASSERT_EQUAL(4, d["stock"].GetInt());
        CPPUNIT_ASSERT_EQUAL(4, d["reserved"].GetInt());
        CPPUNIT_ASSERT_EQUAL(0, d["available"].GetInt());
    }

    /// A checkout that holds the row and raises `reserved` is waited for, and its `reserved`
    /// is what the new stock is checked against.
    void inventoryWaitsForTheRowLock() {
        Api api;
        const long long id = api.variant_with_stock("Sofa", 10);
        VariantRowLock checkout(id);
        checkout.tx.exec_params("UPDATE variants SET reserved = 8 WHERE id = $1", id);
        Response r;
        std::thread admin([&] {
            Http http;
            r = http.put(inventory_path(id), "{\"stock\":5}", admin_token());
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the PUT is now waiting
        checkout.tx.commit();
        admin.join();
        assert_problem(r, 409, "stock below what the committed checkout reserved");
        // The handler itself saw the 8 reserved after the wait (not a constraint failure on the
        // UPDATE, which a read without FOR UPDATE would end in).
        CPPUNIT_ASSERT_MESSAGE(r.body,
                               str(r.json()["detail"]).find("8 units") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(10, api.stock_of(id));
    }

    void inventoryLockTimeoutIs409() {
        Api api;
        const long long id = api.variant_with_stock("Bed", 0);
        VariantRowLock holder(id);
        const auto r = api.http.put(inventory_path(id), "{\"stock\":5}", admin_token());
        holder.tx.abort();
        assert_problem(r, 409, "row locked past the lock timeout");
        CPPUNIT_ASSERT_EQUAL(std::string("1"), r.header("Retry-After"));
        CPPUNIT_ASSERT_EQUAL(0, api.stock_of(id));
    }

    void inventoryErrors() {
        Api api;
        const long long id = api.variant_with_stock("Table", 7);
        const std::string path = inventory_path(id);
        assert_field_error(api.http.put(path, "{\"stock\":-1}", admin_token()), "stock",
                           "negative stock");
        assert_field_error(api.http.put(path, "{\"stock\":\"abc\"}", admin_token()), "stock",
                           "stock not a number");
        assert_field_error(api.http.put(path, "{\"stock\":1.5}", admin_token()), "stock",
                           "fractional stock");
        assert_field_error(api.http.put(path, "{}", admin_token()), "stock", "missing stock");
        assert_field_error(api.http.put(path, "{\"stock\":1000000001}", admin_token()), "stock",
                           "stock too large");
        assert_problem(api.http.put(path, "{\"stock\":", admin_token()), 400, "malformed JSON");
        assert_problem(api.http.put(path, "{\"stock\":1}"), 401, "no token");
        assert_problem(api.http.request("PUT", path, "stock=1", admin_token(),
                                        {{"Content-Type", "text/plain"}}),
                       415, "text/plain");
        assert_problem(
            api.http.put("/api/variants/999999999999/inventory/", "{\"stock\":1}", admin_token()),
            404, "unknown variant");
        CPPUNIT_ASSERT_EQUAL(7, api.stock_of(id));
    }

    void unknownIdsAre404() {
        Http http;
        for (const char *path : {"/api/categories/999999999999/", "/api/products/999999999999/",
                                 "/api/variants/999999999999/",
                                 "/api/products/99999999999999999999/", "/api/products/abc/"})
            assert_problem(http.get(path), 404, path);
        assert_problem(http.get("/api/products/?page=2&search=" + unique("none")), 404,
                       "page 2 of nothing");
        assert_problem(http.del("/api/products/1/", admin_token()), 405, "DELETE a product");
    }

    void writesNeedAdminBeforeBodyChecks() {
        Http http;
        // 401 comes before 415 and 400, as in DRF.
        for (const char *path : {"/api/categories/", "/api/products/", "/api/variants/"}) {
            assert_problem(http.post(path, "{not json"), 401, path);
            assert_problem(http.post(path, "x=1", "", {{"Content-Type", "text/plain"}}), 401, path);
            assert_problem(http.post(path, "x=1", admin_token(), {{"Content-Type", "text/plain"}}),
                           415, path);
        }
        assert_problem(http.put("/api/variants/1/inventory/", "{not json"), 401, "inventory");
    }

    void deeplyNestedBodyIs400() {
        Http http;
        // Deep enough to overflow a worker's stack in a recursive parser (~200000 levels).
        const std::string deep = "{\"name\":\"x\",\"variants\":" + std::string(300000, '[');
        for (const char *path : {"/api/categories/", "/api/products/", "/api/variants/"})
            assert_problem(http.post(path, deep, admin_token()), 400, path);
        assert_problem(http.put("/api/variants/1/inventory/", deep, admin_token()), 400,
                       "inventory");
        CPPUNIT_ASSERT_EQUAL(200L, http.get("/api/categories/").status);  // the host is still up
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CatalogITest);
