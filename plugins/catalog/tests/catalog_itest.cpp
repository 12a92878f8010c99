// Integration tests of the catalog routes through nginx + shopd + PostgreSQL. The database is
// shared with other tests: every name and SKU is unique to this run, and "nothing written" is
// checked by looking for those names, never by assuming empty tables.
#include "http_client.hpp"

#include <cppunit/extensions/HelperMacros.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
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
std::string category_path(long long id) { return "/api/categories/" + std::to_string(id) + "/"; }
std::string product_path(long long id) { return "/api/products/" + std::to_string(id) + "/"; }

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

/// Whether the row `id` of `table` ("products" or "variants") is archived, read from the table.
bool archived(const std::string &table, long long id) {
    return scalar("SELECT count(*) FROM " + table +
                      " WHERE id = $1::bigint AND archived_at IS NOT NULL",
                  std::to_string(id)) == 1;
}

/// A category's parent_id straight from the table (0 for a root).
long long parent_in_db(long long category) {
    return scalar("SELECT coalesce(parent_id, 0) FROM categories WHERE id = $1::bigint",
                  std::to_string(category));
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

/// `v` as compact JSON, as the API writes it: to compare a write's answer with a later GET.
std::string render(const rapidjson::Value &v) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    v.Accept(writer);
    return std::string(buffer.GetString(), buffer.GetSize());
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
    Response put(const std::string &path, const std::string &body) {
        return http.put(path, body, admin_token());
    }
    Response patch(const std::string &path, const std::string &body) {
        return http.patch(path, body, admin_token());
    }
    Response del(const std::string &path) { return http.del(path, admin_token()); }

    /// A write that must answer 200; returns its body.
    rapidjson::Document ok(const Response &r, const std::string &what) {
        CPPUNIT_ASSERT_EQUAL_MESSAGE(what + ": " + r.describe(), 200L, r.status);
        return r.json();
    }
    /// A DELETE that must answer 204 with no body.
    void deleted(const std::string &path) {
        const auto r = del(path);
        CPPUNIT_ASSERT_EQUAL_MESSAGE("DELETE " + path + ": " + r.describe(), 204L, r.status);
        CPPUNIT_ASSERT_EQUAL_MESSAGE("DELETE " + path, std::string(), r.body);
    }

    /// A new customer's bearer token.
    std::string customer() {
        return str(created(post("/api/customers/", "{\"name\":" + quoted(unique("cust")) + "}"),
                           "create customer")["token"]);
    }
    Response add_to_cart(const std::string &token, const std::string &body) {
        return http.post("/api/cart/items/", body, token);
    }
    /// Puts `quantity` of `variant` in the customer's cart and checks out; the reservation id.
    long long reserve(const std::string &token, long long variant, int quantity) {
        created(add_to_cart(token, "{\"variant_id\":" + std::to_string(variant) +
                                       ",\"quantity\":" + std::to_string(quantity) + "}"),
                "add to cart");
        return int64(created(http.post("/api/cart/checkout/", "", token), "checkout")["id"]);
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

/// A checkout that holds the row of a fresh variant (10 in stock, called `name`) and raises its
/// `reserved` to 8 is waited for by an admin's `method` {"stock":5} on `path` of that variant,
/// which then answers 409: its stock is checked against what that checkout committed (the
/// handler itself saw the 8 reserved after the wait, not a constraint failure on the UPDATE,
/// which a read without FOR UPDATE would end in). The stock stays 10.
void assert_stock_write_waits_for_row_lock(const std::string &name, const std::string &method,
                                           std::string (*path)(long long)) {
    Api api;
    const long long id = api.variant_with_stock(name, 10);
    VariantRowLock checkout(id);
    checkout.tx.exec_params("UPDATE variants SET reserved = 8 WHERE id = $1", id);
    Response r;
    std::thread admin([&] {
        Http http;
        r = http.request(method, path(id), "{\"stock\":5}", admin_token());
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the write is now waiting
    checkout.tx.commit();
    admin.join();
    assert_problem(r, 409, (method + ": stock below what the committed checkout reserved").c_str());
    CPPUNIT_ASSERT_MESSAGE(r.body, str(r.json()["detail"]).find("8 units") != std::string::npos);
    CPPUNIT_ASSERT_EQUAL(10, api.stock_of(id));
}

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
    CPPUNIT_TEST(categoryPutAndPatch);
    CPPUNIT_TEST(categoryUpdateErrorsWriteNothing);
    CPPUNIT_TEST(categoryCycleIs400);
    CPPUNIT_TEST(concurrentMovesNeverMakeACycle);
    CPPUNIT_TEST(productPutAndPatch);
    CPPUNIT_TEST(productUpdateErrorsWriteNothing);
    CPPUNIT_TEST(variantPutAndPatch);
    CPPUNIT_TEST(variantUpdateErrorsWriteNothing);
    CPPUNIT_TEST(variantUpdateWaitsForTheRowLock);
    CPPUNIT_TEST(productDeleteArchivesItAndItsVariants);
    CPPUNIT_TEST(variantDeleteArchivesOnlyIt);
    CPPUNIT_TEST(categoryDelete);
    CPPUNIT_TEST(archivedVariantsCannotBeAddedToCarts);
    CPPUNIT_TEST(reservationsOfArchivedVariantsConfirmAndCancel);
    CPPUNIT_TEST(searchMatchesNameDescriptionAndSku);
    CPPUNIT_TEST(searchTakesWildcardsLiterally);
    CPPUNIT_TEST(orderingByNameIgnoresCase);
    CPPUNIT_TEST(priceFilters);
    CPPUNIT_TEST(inStockFilter);
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
        assert_stock_write_waits_for_row_lock("Sofa", "PUT", inventory_path);
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

    // ---- updates ------------------------------------------------------------------------------

    void categoryPutAndPatch() {
        Api api;
        const long long parent = api.category(unique("Parent"));
        const auto created = api.created(
            api.post("/api/categories/", "{\"name\":" + quoted(unique("Kids")) + "}"), "category");
        const long long id = int64(created["id"]);
        const std::string slug = str(created["slug"]);
        const std::string path = category_path(id);

        const std::string renamed = unique("Renamed");
        auto d = api.ok(api.put(path, "{\"name\":" + quoted(renamed) +
                                          ",\"parent_id\":" + std::to_string(parent) + "}"),
                        "PUT");
        CPPUNIT_ASSERT_EQUAL(id, int64(d["id"]));
        CPPUNIT_ASSERT_EQUAL(renamed, str(d["name"]));
        CPPUNIT_ASSERT_EQUAL(slug, str(d["slug"]));  // the slug stays
        CPPUNIT_ASSERT_EQUAL(parent, int64(d["parent_id"]));
        CPPUNIT_ASSERT_EQUAL(api.http.get(path).body, render(d));

        // PATCH changes what it names: the name alone keeps the parent, parent_id null makes a
        // root, and read-only members are ignored.
        d = api.ok(api.patch(path, "{\"name\":\"Patched\",\"slug\":\"other\",\"id\":1}"), "PATCH");
        CPPUNIT_ASSERT_EQUAL(std::string("Patched"), str(d["name"]));
        CPPUNIT_ASSERT_EQUAL(parent, int64(d["parent_id"]));
        CPPUNIT_ASSERT_EQUAL(slug, str(d["slug"]));
        d = api.ok(api.patch(path, "{\"parent_id\":null}"), "PATCH to root");
        CPPUNIT_ASSERT(d["parent_id"].IsNull());
        CPPUNIT_ASSERT_EQUAL(std::string("Patched"), str(d["name"]));
        d = api.ok(api.patch(path, "{}"), "empty PATCH");
        CPPUNIT_ASSERT_EQUAL(api.http.get(path).body, render(d));
        // Without the trailing slash the route is the same.
        api.ok(api.patch("/api/categories/" + std::to_string(id), "{\"name\":\"Patched\"}"),
               "PATCH without slash");
    }

    void categoryUpdateErrorsWriteNothing() {
        Api api;
        const long long id = api.category(unique("Keep"));
        const std::string path = category_path(id);
        const std::string before = api.http.get(path).body;
        const std::string body = "{\"name\":\"New\",\"parent_id\":null}";
        assert_problem(api.http.put(path, body), 401, "no token");
        assert_problem(api.http.patch(path, body, "wrong-token"), 401, "wrong token");
        assert_problem(api.http.request("PATCH", path, "name=x", admin_token(),
                                        {{"Content-Type", "text/plain"}}),
                       415, "text/plain");
        assert_problem(api.patch(path, "{\"name\":"), 400, "malformed JSON");
        assert_field_error(api.put(path, "{\"name\":\"New\"}"), "parent_id", "PUT without parent");
        assert_field_error(api.put(path, "{\"parent_id\":null}"), "name", "PUT without name");
        assert_field_error(api.patch(path, "{\"name\":null}"), "name", "null name");
        assert_field_error(api.patch(path, "{\"name\":\"  \"}"), "name", "blank name");
        assert_field_error(api.patch(path, "{\"parent_id\":\"x\"}"), "parent_id", "bad parent");
        assert_field_error(api.patch(path, "{\"parent_id\":999999999999}"), "parent_id",
                           "unknown parent");
        CPPUNIT_ASSERT_EQUAL(before, api.http.get(path).body);
        // 404 comes before any body check, as DRF's get_object() does.
        for (const char *method : {"PUT", "PATCH"})
            assert_problem(api.http.request(method, "/api/categories/999999999999/",
                                            "{\"name\":", admin_token()),
                           404, method);
    }

    void categoryCycleIs400() {
        Api api;
        const long long root = api.category(unique("Root"));
        const long long child = api.category(unique("Child"), root);
        const long long grandchild = api.category(unique("Grandchild"), child);
        for (const long long parent : {root, child, grandchild}) {
            const auto r =
                api.patch(category_path(root), "{\"parent_id\":" + std::to_string(parent) + "}");
            assert_field_error(r, "parent_id", "root under " + std::to_string(parent));
        }
        assert_field_error(api.put(category_path(child), "{\"name\":\"x\",\"parent_id\":" +
                                                             std::to_string(grandchild) + "}"),
                           "parent_id", "child under its own child");
        CPPUNIT_ASSERT_EQUAL(0LL, parent_in_db(root));
        CPPUNIT_ASSERT_EQUAL(root, parent_in_db(child));
        // Moving a subtree elsewhere is fine, and keeping the parent it has too.
        const long long other = api.category(unique("Other"));
        api.ok(api.patch(category_path(child), "{\"parent_id\":" + std::to_string(other) + "}"),
               "move the subtree");
        api.ok(api.patch(category_path(child), "{\"parent_id\":" + std::to_string(other) + "}"),
               "same parent again");
        CPPUNIT_ASSERT_EQUAL(child, parent_in_db(grandchild));
        // The product filter follows the new tree.
        api.product(unique("InGrand"), grandchild);
        CPPUNIT_ASSERT_EQUAL(1LL,
                             count_of(api.get("/api/products/?category=" + std::to_string(other))));
        CPPUNIT_ASSERT_EQUAL(0LL,
                             count_of(api.get("/api/products/?category=" + std::to_string(root))));
    }

    /// Two moves that would close a loop together (A under B, B under A) never both succeed.
    void concurrentMovesNeverMakeACycle() {
        Api api;
        for (int round = 0; round < 5; ++round) {
            const long long a = api.category(unique("A")), b = api.category(unique("B"));
            Response ra, rb;
            std::thread ta([&] {
                Http http;
                ra = http.patch(category_path(a), "{\"parent_id\":" + std::to_string(b) + "}",
                                admin_token());
            });
            std::thread tb([&] {
                Http http;
                rb = http.patch(category_path(b), "{\"parent_id\":" + std::to_string(a) + "}",
                                admin_token());
            });
            ta.join();
            tb.join();
            CPPUNIT_ASSERT_MESSAGE(ra.describe() + " / " + rb.describe(),
                                   (ra.status == 200) != (rb.status == 200));
            CPPUNIT_ASSERT_MESSAGE(ra.describe() + " / " + rb.describe(),
                                   ra.status == 400 || rb.status == 400);
            CPPUNIT_ASSERT(parent_in_db(a) == 0 || parent_in_db(b) == 0);
        }
    }

    void productPutAndPatch() {
        Api api;
        const long long cat = api.category(unique("Tables")), other = api.category(unique("Desks"));
        const auto p = api.product(unique("Table"), cat, "\"100.00\"",
                                   "[{\"sku\":" + quoted(unique("T-S")) +
                                       ",\"name\":\"S\",\"price_delta\":\"-40.00\",\"stock\":2}]");
        const long long id = int64(p["id"]);
        const std::string path = product_path(id);
        const std::string name = unique("Desk");
        auto d = api.ok(api.put(path, "{\"name\":" + quoted(name) +
                                          ",\"description\":\"Oak.\",\"category_id\":" +
                                          std::to_string(other) + ",\"base_price\":\"60.00\"}"),
                        "PUT");
        CPPUNIT_ASSERT_EQUAL(name, str(d["name"]));
        CPPUNIT_ASSERT_EQUAL(std::string("Oak."), str(d["description"]));
        CPPUNIT_ASSERT_EQUAL(other, int64(d["category_id"]));
        CPPUNIT_ASSERT_EQUAL(std::string("60.00"), str(d["base_price"]));
        CPPUNIT_ASSERT_EQUAL(1u, d["variants"].Size());  // the variants come along, unchanged
        CPPUNIT_ASSERT_EQUAL(2, d["variants"][0]["stock"].GetInt());
        CPPUNIT_ASSERT_EQUAL(api.http.get(path).body, render(d));

        d = api.ok(api.patch(path, "{\"base_price\":40,\"variants\":[],\"id\":5}"), "PATCH price");
        CPPUNIT_ASSERT_EQUAL(std::string("40.00"), str(d["base_price"]));  // 40 - 40 = 0: fine
        CPPUNIT_ASSERT_EQUAL(name, str(d["name"]));
        CPPUNIT_ASSERT_EQUAL(1u, d["variants"].Size());
        d = api.ok(api.patch(path, "{\"description\":\"\"}"), "PATCH blank description");
        CPPUNIT_ASSERT_EQUAL(std::string(), str(d["description"]));
        CPPUNIT_ASSERT_EQUAL(api.http.get(path).body, render(d));
    }

    void productUpdateErrorsWriteNothing() {
        Api api;
        const long long cat = api.category(unique("PErr"));
        const auto p = api.product(
            unique("Lamp"), cat, "\"10.00\"",
            "[{\"sku\":" + quoted(unique("L")) + ",\"name\":\"x\",\"price_delta\":\"-5.00\"}]");
        const std::string path = product_path(int64(p["id"]));
        const std::string before = api.http.get(path).body;
        const std::string body = "{\"name\":\"x\"}";
        assert_problem(api.http.patch(path, body), 401, "no token");
        assert_problem(api.http.put(path, body, "wrong-token"), 401, "wrong token");
        assert_problem(api.http.request("PUT", path, "name=x", admin_token(),
                                        {{"Content-Type", "text/plain"}}),
                       415, "text/plain");
        assert_problem(api.put(path, "{\"name\":"), 400, "malformed JSON");
        const auto r = api.put(path, "{}");
        for (const char *field : {"name", "description", "category_id", "base_price"})
            assert_field_error(r, field, std::string("empty PUT: ") + field);
        assert_field_error(api.patch(path, "{\"category_id\":999999999999}"), "category_id",
                           "unknown category");
        assert_field_error(api.patch(path, "{\"base_price\":\"4.99\"}"), "base_price",
                           "base price under the variant's -5.00");
        assert_field_error(api.patch(path, "{\"base_price\":\"-1\"}"), "base_price", "negative");
        assert_field_error(api.patch(path, "{\"name\":null}"), "name", "null name");
        assert_field_error(api.patch(path, "{\"name\":\"" + std::string(201, 'n') + "\"}"), "name",
                           "201 characters");
        CPPUNIT_ASSERT_EQUAL(before, api.http.get(path).body);
        for (const char *method : {"PUT", "PATCH"})
            assert_problem(api.http.request(method, "/api/products/999999999999/",
                                            "{\"name\":", admin_token()),
                           404, method);
    }

    void variantPutAndPatch() {
        Api api;
        const long long cat = api.category(unique("VUpd"));
        const auto p =
            api.product(unique("Mug"), cat, "\"10.00\"",
                        "[{\"sku\":" + quoted(unique("M")) + ",\"name\":\"x\",\"stock\":5}]");
        const long long id = int64(p["variants"][0]["id"]);
        const std::string path = variant_path(id);
        set_reserved(id, 2);
        const std::string sku = unique("MUG-RED");
        auto d =
            api.ok(api.put(path, "{\"sku\":" + quoted(sku) +
                                     ",\"name\":\"Red\",\"price_delta\":\"-10.00\",\"stock\":2}"),
                   "PUT");
        CPPUNIT_ASSERT_EQUAL(sku, str(d["sku"]));
        CPPUNIT_ASSERT_EQUAL(std::string("Red"), str(d["name"]));
        CPPUNIT_ASSERT_EQUAL(std::string("-10.00"), str(d["price_delta"]));
        CPPUNIT_ASSERT_EQUAL(2, d["stock"].GetInt());  // exactly the reserved units: fine
        CPPUNIT_ASSERT_EQUAL(2, d["reserved"].GetInt());
        CPPUNIT_ASSERT_EQUAL(0, d["available"].GetInt());
        CPPUNIT_ASSERT_EQUAL(int64(p["id"]), int64(d["product_id"]));
        CPPUNIT_ASSERT_EQUAL(api.http.get(path).body, render(d));

        d = api.ok(api.patch(path, "{\"stock\":9,\"product_id\":1,\"reserved\":0}"), "PATCH stock");
        CPPUNIT_ASSERT_EQUAL(9, d["stock"].GetInt());
        CPPUNIT_ASSERT_EQUAL(2, d["reserved"].GetInt());  // read-only members are ignored
        CPPUNIT_ASSERT_EQUAL(int64(p["id"]), int64(d["product_id"]));
        CPPUNIT_ASSERT_EQUAL(sku, str(d["sku"]));
        d = api.ok(api.patch(path, "{\"sku\":" + quoted(sku) + "}"), "PATCH to its own SKU");
        CPPUNIT_ASSERT_EQUAL(sku, str(d["sku"]));
        // The product shows the change.
        CPPUNIT_ASSERT_EQUAL(std::string("Red"),
                             str(api.get(product_path(int64(p["id"])))["variants"][0]["name"]));
    }

    void variantUpdateErrorsWriteNothing() {
        Api api;
        const long long cat = api.category(unique("VErr"));
        const std::string taken = unique("TAKEN"), archived_sku = unique("GONE");
        const auto p = api.product(unique("Vase"), cat, "\"10.00\"",
                                   "[{\"sku\":" + quoted(unique("V")) +
                                       ",\"name\":\"x\",\"stock\":5},{\"sku\":" + quoted(taken) +
                                       ",\"name\":\"y\"},{\"sku\":" + quoted(archived_sku) +
                                       ",\"name\":\"z\"}]");
        const long long id = int64(p["variants"][0]["id"]);
        api.deleted(variant_path(int64(p["variants"][2]["id"])));
        const std::string path = variant_path(id);
        set_reserved(id, 3);
        const std::string before = api.http.get(path).body;
        assert_problem(api.http.patch(path, "{\"stock\":9}"), 401, "no token");
        assert_problem(api.http.put(path, "{\"stock\":9}", "wrong-token"), 401, "wrong token");
        assert_problem(api.http.request("PATCH", path, "stock=9", admin_token(),
                                        {{"Content-Type", "text/plain"}}),
                       415, "text/plain");
        assert_problem(api.patch(path, "{\"stock\":"), 400, "malformed JSON");
        const auto r = api.put(path, "{\"stock\":9}");
        for (const char *field : {"sku", "name", "price_delta"})
            assert_field_error(r, field, std::string("PUT without ") + field);
        auto dup = api.patch(path, "{\"sku\":" + quoted(taken) + "}");
        assert_field_error(dup, "sku", "SKU of another variant");
        CPPUNIT_ASSERT_EQUAL(std::string("variant with this sku already exists."),
                             str(dup.json()["errors"]["sku"][0]));
        assert_field_error(api.patch(path, "{\"sku\":" + quoted(archived_sku) + "}"), "sku",
                           "SKU of an archived variant (it stays taken)");
        assert_field_error(api.patch(path, "{\"price_delta\":\"-10.01\"}"), "price_delta",
                           "price below zero");
        assert_field_error(api.patch(path, "{\"stock\":-1}"), "stock", "negative stock");
        assert_field_error(api.patch(path, "{\"sku\":null}"), "sku", "null SKU");
        const auto below = api.patch(path, "{\"stock\":2,\"name\":\"changed\"}");
        assert_problem(below, 409, "stock below the 3 reserved");
        CPPUNIT_ASSERT_MESSAGE(below.body,
                               str(below.json()["detail"]).find("3 units") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(before, api.http.get(path).body);
        CPPUNIT_ASSERT_EQUAL(1LL, variants_with_sku(taken));
        for (const char *method : {"PUT", "PATCH"})
            assert_problem(
                api.http.request(method, "/api/variants/999999999999/", "{\"sku\":", admin_token()),
                404, method);
    }

    /// A checkout holding the variant's row and raising `reserved` is waited for; the update
    /// then checks its stock against what that checkout committed.
    void variantUpdateWaitsForTheRowLock() {
        assert_stock_write_waits_for_row_lock("Stool", "PATCH", variant_path);
    }

    // ---- deletes (archive) ----------------------------------------------------------------------

    void productDeleteArchivesItAndItsVariants() {
        Api api;
        const long long cat = api.category(unique("Arch"));
        const std::string name = unique("Archived") + "x", sku = unique("ARCH") + "x";
        const auto p = api.product(name, cat, "\"10.00\"",
                                   "[{\"sku\":" + quoted(sku) +
                                       ",\"name\":\"a\",\"stock\":3},"
                                       "{\"sku\":" +
                                       quoted(unique("ARCH2")) + ",\"name\":\"b\"}]");
        const auto kept = api.product(unique("Kept"), cat);
        const long long id = int64(p["id"]);
        const long long v1 = int64(p["variants"][0]["id"]), v2 = int64(p["variants"][1]["id"]);
        assert_problem(api.http.del(product_path(id)), 401, "no token");
        assert_problem(api.http.del(product_path(id), "wrong-token"), 401, "wrong token");
        CPPUNIT_ASSERT(!archived("products", id));
        api.deleted(product_path(id));
        CPPUNIT_ASSERT(archived("products", id));
        CPPUNIT_ASSERT(archived("variants", v1) && archived("variants", v2));
        CPPUNIT_ASSERT_EQUAL(1LL, products_named(name));  // archived, not erased

        // Gone from every read.
        for (const auto &path : {product_path(id), variant_path(v1), variant_path(v2)})
            assert_problem(api.http.get(path), 404, path.c_str());
        const std::string by_cat = "/api/products/?category=" + std::to_string(cat);
        auto d = api.get(by_cat);
        CPPUNIT_ASSERT_EQUAL(1LL, count_of(d));
        CPPUNIT_ASSERT_EQUAL(int64(kept["id"]), int64(d["results"][0]["id"]));
        for (const std::string &query :
             {"search=" + name, "search=" + sku, "search=" + name + "&ordering=name",
              "search=" + name + "&in_stock=true&max_price=20"})
            CPPUNIT_ASSERT_EQUAL_MESSAGE(query, 0LL, count_of(api.get("/api/products/?" + query)));
        CPPUNIT_ASSERT_EQUAL(0LL,
                             count_of(api.get("/api/variants/?product=" + std::to_string(id))));
        CPPUNIT_ASSERT_EQUAL(0LL, count_of(api.get(by_cat + "&in_stock=true")));

        // Nothing writes to it any more.
        assert_problem(api.del(product_path(id)), 404, "DELETE again");
        assert_problem(api.del(variant_path(v1)), 404, "DELETE its variant");
        assert_problem(api.patch(product_path(id), "{\"name\":\"x\"}"), 404, "PATCH");
        assert_problem(api.put(product_path(id), "{}"), 404, "PUT");
        assert_problem(api.patch(variant_path(v1), "{\"stock\":1}"), 404, "PATCH its variant");
        assert_problem(api.put(inventory_path(v1), "{\"stock\":1}"), 404, "inventory");
        assert_field_error(api.post("/api/variants/", "{\"product_id\":" + std::to_string(id) +
                                                          ",\"sku\":" + quoted(unique("NEW")) +
                                                          ",\"name\":\"x\"}"),
                           "product_id", "a new variant for it");
        CPPUNIT_ASSERT_EQUAL(
            3LL, scalar("SELECT stock FROM variants WHERE id = $1::bigint", std::to_string(v1)));
        assert_problem(api.del("/api/products/999999999999/"), 404, "unknown product");
    }

    void variantDeleteArchivesOnlyIt() {
        Api api;
        const long long cat = api.category(unique("VArch"));
        const std::string gone_sku = unique("GONESKU") + "x";
        const auto p = api.product(unique("Pen"), cat, "\"2.00\"",
                                   "[{\"sku\":" + quoted(gone_sku) +
                                       ",\"name\":\"a\",\"stock\":5},"
                                       "{\"sku\":" +
                                       quoted(unique("LIVE")) + ",\"name\":\"b\"}]");
        const long long id = int64(p["id"]);
        const long long gone = int64(p["variants"][0]["id"]), live = int64(p["variants"][1]["id"]);
        assert_problem(api.http.del(variant_path(gone)), 401, "no token");
        api.deleted(variant_path(gone));
        CPPUNIT_ASSERT(archived("variants", gone) && !archived("variants", live));
        assert_problem(api.http.get(variant_path(gone)), 404, "GET archived variant");
        auto d = api.get(product_path(id));
        CPPUNIT_ASSERT_EQUAL(1u, d["variants"].Size());
        CPPUNIT_ASSERT_EQUAL(live, int64(d["variants"][0]["id"]));
        d = api.get("/api/products/?category=" + std::to_string(cat));
        CPPUNIT_ASSERT_EQUAL(1u, d["results"][0]["variants"].Size());
        CPPUNIT_ASSERT_EQUAL(1LL,
                             count_of(api.get("/api/variants/?product=" + std::to_string(id))));
        // Its SKU and its stock count no more: the product's one live variant has none.
        CPPUNIT_ASSERT_EQUAL(0LL, count_of(api.get("/api/products/?search=" + gone_sku)));
        const std::string by_cat = "/api/products/?category=" + std::to_string(cat);
        CPPUNIT_ASSERT_EQUAL(0LL, count_of(api.get(by_cat + "&in_stock=true")));
        CPPUNIT_ASSERT_EQUAL(1LL, count_of(api.get(by_cat + "&in_stock=false")));
        assert_problem(api.del(variant_path(gone)), 404, "DELETE again");
        assert_problem(api.patch(variant_path(gone), "{\"name\":\"x\"}"), 404, "PATCH");
        assert_problem(api.put(inventory_path(gone), "{\"stock\":1}"), 404, "inventory");
        assert_problem(api.del("/api/variants/999999999999/"), 404, "unknown variant");
        // The product itself is still there and can be archived.
        api.deleted(product_path(id));
    }

    void categoryDelete() {
        Api api;
        const long long empty = api.category(unique("Empty"));
        assert_problem(api.http.del(category_path(empty)), 401, "no token");
        api.deleted(category_path(empty));
        CPPUNIT_ASSERT_EQUAL(0LL, scalar("SELECT count(*) FROM categories WHERE id = $1::bigint",
                                         std::to_string(empty)));
        assert_problem(api.http.get(category_path(empty)), 404, "GET deleted");
        assert_problem(api.del(category_path(empty)), 404, "DELETE again");

        const long long parent = api.category(unique("Parent"));
        const long long child = api.category(unique("Child"), parent);
        auto r = api.del(category_path(parent));
        assert_problem(r, 409, "has a child");
        CPPUNIT_ASSERT_MESSAGE(r.body,
                               str(r.json()["detail"]).find("1 child") != std::string::npos);
        const long long product = int64(api.product(unique("P"), child)["id"]);
        assert_problem(api.del(category_path(child)), 409, "has a live product");
        // An archived product keeps its category (a foreign key), so it still blocks: 409 that
        // says so.
        api.deleted(product_path(product));
        r = api.del(category_path(child));
        assert_problem(r, 409, "has an archived product");
        CPPUNIT_ASSERT_MESSAGE(r.body,
                               str(r.json()["detail"]).find("archived") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(child, scalar("SELECT id FROM categories WHERE id = $1::bigint",
                                           std::to_string(child)));
        CPPUNIT_ASSERT_EQUAL(parent, parent_in_db(child));
    }

    // ---- carts and reservations of archived variants -------------------------------------------

    void archivedVariantsCannotBeAddedToCarts() {
        Api api;
        const std::string token = api.customer();
        const long long cat = api.category(unique("Cart"));
        const auto gone =
            api.product(unique("Gone"), cat, "\"5.00\"",
                        "[{\"sku\":" + quoted(unique("G")) + ",\"name\":\"a\",\"stock\":9}]");
        const auto two = api.product(unique("Two"), cat, "\"5.00\"",
                                     "[{\"sku\":" + quoted(unique("T1")) +
                                         ",\"name\":\"a\",\"stock\":9},"
                                         "{\"sku\":" +
                                         quoted(unique("T2")) + ",\"name\":\"b\",\"stock\":9}]");
        api.deleted(product_path(int64(gone["id"])));
        const std::string gone_variant = std::to_string(int64(gone["variants"][0]["id"]));
        assert_field_error(
            api.add_to_cart(token, "{\"variant_id\":" + gone_variant + ",\"quantity\":1}"),
            "variant_id", "archived variant");
        assert_field_error(
            api.add_to_cart(
                token, "{\"product_id\":" + std::to_string(int64(gone["id"])) + ",\"quantity\":1}"),
            "product_id", "archived product");
        // A product with two variants, one archived, is added through the one left.
        api.deleted(variant_path(int64(two["variants"][0]["id"])));
        assert_field_error(
            api.add_to_cart(token,
                            "{\"variant_id\":" + std::to_string(int64(two["variants"][0]["id"])) +
                                ",\"quantity\":1}"),
            "variant_id", "archived variant of a live product");
        const auto added = api.created(
            api.add_to_cart(
                token, "{\"product_id\":" + std::to_string(int64(two["id"])) + ",\"quantity\":2}"),
            "the product's one live variant");
        CPPUNIT_ASSERT_EQUAL(int64(two["variants"][1]["id"]), int64(added["variant_id"]));
        const auto cart = api.http.get("/api/cart/", token);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(cart.describe(), 200L, cart.status);
        CPPUNIT_ASSERT_EQUAL(1u, cart.json()["items"].Size());  // nothing else was written
    }

    /// The checkout plugin's SQL does not look at archived_at: a reservation taken before the
    /// archive still confirms (stock taken) and cancels (units given back).
    void reservationsOfArchivedVariantsConfirmAndCancel() {
        Api api;
        const std::string token = api.customer();
        const long long first = api.variant_with_stock("Resv", 10);
        const long long reservation = api.reserve(token, first, 3);
        api.deleted(variant_path(first));
        auto r = api.http.post("/api/reservations/" + std::to_string(reservation) + "/confirm/", "",
                               token);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        CPPUNIT_ASSERT_EQUAL(std::string("CONFIRMED"), str(r.json()["status"]));
        CPPUNIT_ASSERT_EQUAL(
            7LL, scalar("SELECT stock FROM variants WHERE id = $1::bigint", std::to_string(first)));
        CPPUNIT_ASSERT_EQUAL(0LL, scalar("SELECT reserved FROM variants WHERE id = $1::bigint",
                                         std::to_string(first)));

        const long long second = api.variant_with_stock("Resv", 10);
        const long long product =
            scalar("SELECT product_id FROM variants WHERE id = $1::bigint", std::to_string(second));
        const long long other = api.reserve(token, second, 4);
        api.deleted(product_path(product));
        r = api.http.post("/api/reservations/" + std::to_string(other) + "/cancel/", "", token);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        CPPUNIT_ASSERT_EQUAL(std::string("CANCELLED"), str(r.json()["status"]));
        CPPUNIT_ASSERT_EQUAL(10LL, scalar("SELECT stock FROM variants WHERE id = $1::bigint",
                                          std::to_string(second)));
        CPPUNIT_ASSERT_EQUAL(0LL, scalar("SELECT reserved FROM variants WHERE id = $1::bigint",
                                         std::to_string(second)));
        CPPUNIT_ASSERT(archived("variants", second));
    }

    // ---- search, filters, ordering ------------------------------------------------------------

    void searchMatchesNameDescriptionAndSku() {
        Api api;
        const long long cat = api.category(unique("Find"));
        const std::string token = unique("qz") + "x";  // "x": no other token has it as a prefix
        std::string upper = token;
        for (auto &c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        const auto in_name = api.product("A " + upper + " lamp", cat);
        const auto in_description = api.created(
            api.post("/api/products/", "{\"name\":" + quoted(unique("Plain")) +
                                           ",\"description\":\"Made by " + upper +
                                           " in 1999.\",\"category_id\":" + std::to_string(cat) +
                                           ",\"base_price\":1}"),
            "description");
        const auto in_sku = api.product(unique("Other"), cat, "\"1.00\"",
                                        "[{\"sku\":\"SKU-" + upper +
                                            "-1\",\"name\":\"a\"},"
                                            "{\"sku\":\"SKU-" +
                                            upper + "-2\",\"name\":\"b\"}]");
        api.product(unique("Unrelated"), cat);
        auto d = api.get("/api/products/?search=" + token);
        CPPUNIT_ASSERT_EQUAL(3LL, count_of(d));  // the SKU product once, not once per variant
        std::set<long long> ids;
        for (const auto &p : d["results"].GetArray()) ids.insert(int64(p["id"]));
        CPPUNIT_ASSERT(ids ==
                       (std::set<long long>{int64(in_name["id"]), int64(in_description["id"]),
                                            int64(in_sku["id"])}));
        CPPUNIT_ASSERT_EQUAL(1LL, count_of(api.get("/api/products/?search=sku-" + token + "-2")));
        CPPUNIT_ASSERT_EQUAL(1LL,
                             count_of(api.get("/api/products/?search=BY%20" + token + "%20IN")));
        // Combined with the other filters and pages.
        CPPUNIT_ASSERT_EQUAL(3LL, count_of(api.get("/api/products/?search=" + token +
                                                   "&category=" + std::to_string(cat))));
        d = api.page("/api/products/?search=" + token + "&page_size=2&page=2", 3, 1);
        CPPUNIT_ASSERT(d["next"].IsNull());
        // Archiving one SKU variant keeps the product found through the other.
        api.deleted(variant_path(int64(in_sku["variants"][0]["id"])));
        CPPUNIT_ASSERT_EQUAL(3LL, count_of(api.get("/api/products/?search=" + token)));
        CPPUNIT_ASSERT_EQUAL(0LL, count_of(api.get("/api/products/?search=sku-" + token + "-1")));
    }

    void searchTakesWildcardsLiterally() {
        Api api;
        const long long cat = api.category(unique("Lit"));
        const std::string token = unique("lit") + "x";
        const std::string in = "&category=" + std::to_string(cat);
        api.product(token + " 50% off", cat);
        api.product(token + " 50 percent off", cat);
        api.product(token + " a_b", cat);
        api.product(token + " axb", cat);
        api.product(token + " back\\\\slash", cat);  // JSON "\\" is one backslash
        api.product(token + " backslash", cat);
        using Names = std::vector<std::string>;
        CPPUNIT_ASSERT(result_names(api.get("/api/products/?search=50%25" + in)) ==
                       (Names{token + " 50% off"}));
        CPPUNIT_ASSERT(result_names(api.get("/api/products/?search=a_b" + in)) ==
                       (Names{token + " a_b"}));
        CPPUNIT_ASSERT(result_names(api.get("/api/products/?search=k%5Cs" + in)) ==
                       (Names{token + " back\\slash"}));
        CPPUNIT_ASSERT_EQUAL(0LL, count_of(api.get("/api/products/?search=%25%25%25" + in)));
        CPPUNIT_ASSERT_EQUAL(6LL, count_of(api.get("/api/products/?search=" + token + in)));
    }

    void orderingByNameIgnoresCase() {
        Api api;
        const long long cat = api.category(unique("Case"));
        const std::string tag = unique("n");
        const std::string b = "banana " + tag, a = "Apple " + tag, c = "cherry " + tag,
                          a2 = "apple " + tag;
        api.product(b, cat);
        api.product(a, cat);
        api.product(c, cat);
        api.product(a2, cat);
        const std::string path = "/api/products/?category=" + std::to_string(cat) + "&ordering=";
        using Names = std::vector<std::string>;
        // "Apple" and "apple" tie on lower(name): id breaks the tie, both ways.
        CPPUNIT_ASSERT(result_names(api.get(path + "name")) == (Names{a, a2, b, c}));
        CPPUNIT_ASSERT(result_names(api.get(path + "-name")) == (Names{c, b, a2, a}));
        CPPUNIT_ASSERT(result_names(api.get(path + "name&search=" + tag)) == (Names{a, a2, b, c}));
        CPPUNIT_ASSERT(result_names(api.get(path + "-name&page_size=1&page=2")) == (Names{b}));
    }

    void priceFilters() {
        Api api;
        const long long cat = api.category(unique("Price"));
        const std::string ten = unique("ten"), twenty = unique("twenty"), thirty = unique("thirty");
        api.product(ten, cat, "\"10.00\"");
        api.product(twenty, cat, "\"20.00\"");
        api.product(thirty, cat, "\"30.00\"");
        const std::string path = "/api/products/?category=" + std::to_string(cat);
        using Names = std::vector<std::string>;
        CPPUNIT_ASSERT(result_names(api.get(path + "&min_price=20")) == (Names{twenty, thirty}));
        CPPUNIT_ASSERT(result_names(api.get(path + "&max_price=20.00")) == (Names{ten, twenty}));
        CPPUNIT_ASSERT(result_names(api.get(path + "&min_price=20&max_price=20")) ==
                       (Names{twenty}));
        CPPUNIT_ASSERT(result_names(api.get(path + "&min_price=10.01&max_price=29.99")) ==
                       (Names{twenty}));
        CPPUNIT_ASSERT(result_names(api.get(path + "&min_price=15&ordering=-base_price")) ==
                       (Names{thirty, twenty}));
        CPPUNIT_ASSERT(result_names(api.get(path + "&min_price=&max_price=")) ==
                       (Names{ten, twenty, thirty}));
        CPPUNIT_ASSERT_EQUAL(0LL, count_of(api.get(path + "&min_price=30.01")));
        assert_field_error(api.http.get(path + "&min_price=21&max_price=20"), "min_price",
                           "min above max");
        assert_field_error(api.http.get(path + "&min_price=abc"), "min_price", "not money");
        assert_field_error(api.http.get(path + "&max_price=1.005"), "max_price", "3 decimals");
        assert_field_error(api.http.get(path + "&max_price=-1"), "max_price", "negative");
        // Every bad parameter at once.
        const auto r = api.http.get(path + "&min_price=x&max_price=y&in_stock=maybe&ordering=z");
        for (const char *field : {"min_price", "max_price", "in_stock", "ordering"})
            assert_field_error(r, field, field);
    }

    void inStockFilter() {
        Api api;
        const long long cat = api.category(unique("Stock"));
        const std::string has = unique("has"), held = unique("held"), none = unique("none"),
                          gone = unique("gone");
        api.product(has, cat, "\"1.00\"",
                    "[{\"sku\":" + quoted(unique("H0")) +
                        ",\"name\":\"a\",\"stock\":0},"
                        "{\"sku\":" +
                        quoted(unique("H1")) + ",\"name\":\"b\",\"stock\":1}]");
        const auto h =
            api.product(held, cat, "\"1.00\"",
                        "[{\"sku\":" + quoted(unique("R")) + ",\"name\":\"a\",\"stock\":2}]");
        set_reserved(int64(h["variants"][0]["id"]), 2);  // stock 2, all of it reserved
        api.product(none, cat);                          // the default variant: stock 0
        const auto g = api.product(gone, cat, "\"1.00\"",
                                   "[{\"sku\":" + quoted(unique("G1")) +
                                       ",\"name\":\"a\",\"stock\":5},"
                                       "{\"sku\":" +
                                       quoted(unique("G2")) + ",\"name\":\"b\"}]");
        api.deleted(variant_path(int64(g["variants"][0]["id"])));  // its only stock, archived
        const std::string path = "/api/products/?category=" + std::to_string(cat);
        using Names = std::vector<std::string>;
        CPPUNIT_ASSERT(result_names(api.get(path + "&in_stock=true")) == (Names{has}));
        CPPUNIT_ASSERT(result_names(api.get(path + "&in_stock=false")) ==
                       (Names{held, none, gone}));
        CPPUNIT_ASSERT_EQUAL(4LL, count_of(api.get(path + "&in_stock=")));
        CPPUNIT_ASSERT(result_names(api.get(path + "&in_stock=false&ordering=-name&page_size=1")) ==
                       (Names{none}));
        for (const char *bad : {"yes", "1", "TRUE", "True"})
            assert_field_error(api.http.get(path + "&in_stock=" + bad), "in_stock", bad);
    }

    void unknownIdsAre404() {
        Http http;
        for (const char *path : {"/api/categories/999999999999/", "/api/products/999999999999/",
                                 "/api/variants/999999999999/",
                                 "/api/products/99999999999999999999/", "/api/products/abc/"})
            assert_problem(http.get(path), 404, path);
        assert_problem(http.get("/api/products/?page=2&search=" + unique("none")), 404,
                       "page 2 of nothing");
        assert_problem(http.post("/api/products/1/", "{}", admin_token()), 405, "POST a product");
        for (const char *method : {"PUT", "PATCH", "DELETE"})
            for (const char *path : {"/api/categories/999999999999/", "/api/products/999999999999/",
                                     "/api/variants/999999999999/"})
                assert_problem(http.request(method, path, "{}", admin_token()), 404, path);
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
        for (const char *path : {"/api/categories/1/", "/api/products/1/", "/api/variants/1/"}) {
            for (const char *method : {"PUT", "PATCH"}) {
                assert_problem(http.request(method, path, "{not json"), 401, path);
                assert_problem(
                    http.request(method, path, "x=1", "", {{"Content-Type", "text/plain"}}), 401,
                    path);
            }
            assert_problem(http.del(path), 401, path);
        }
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
