// Integration test of the "price" service through the C ABI, as the host routes a
// call_service() from another plugin: dlopen() pricing.so, then serve() with a minimal host API
// and the caller's open transaction on $SHOPD_DATABASE_URL. Every row it needs is written in
// that transaction and rolled back, which also proves the service reads through the caller's
// transaction (it sees uncommitted rows).
#include "http_client.hpp"

#include "shopd/plugin.h"
#include "shopd/sdk.hpp"

#include <cppunit/extensions/HelperMacros.h>
#include <dlfcn.h>
#include <pqxx/pqxx>

#include <iostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace shopd::test;

/// The host's response object is opaque to plugins; this test is the host here.
struct shopd_response {
    int status = 0;
    std::string content_type;
    std::string body;
};

namespace {

void api_set_status(shopd_response *r, int status) { r->status = status; }
void api_add_header(shopd_response *, const char *, const char *) {}
void api_set_body(shopd_response *r, const char *type, const char *body, size_t len) {
    r->content_type = type ? type : "";
    r->body.assign(body ? body : "", body ? len : 0);
}
int api_call_service(const shopd_request *, void *, const char *, const char *, size_t,
                     shopd_reply_fn, void *) {
    return -1;
}
const char *api_config(const char *) { return nullptr; }
void api_log(int level, const char *plugin, const char *message) {
    std::cerr << "[" << plugin << " log " << level << "] " << message << "\n";
}
void api_count_db_error(const char *, const char *) {}
void api_connection_lost(const shopd_request *, int) {}

/// Filled by name, so a field added to the ABI starts as null here instead of shifting the rest.
shopd_host_api make_host_api() {
    shopd_host_api api{};
    api.struct_size = sizeof api;
    api.set_status = api_set_status;
    api.add_header = api_add_header;
    api.set_body = api_set_body;
    api.call_service = api_call_service;
    api.config = api_config;
    api.log = api_log;
    api.count_db_error = api_count_db_error;
    api.connection_lost = api_connection_lost;
    return api;
}

const shopd_host_api kHostApi = make_host_api();

/// pricing.so loaded once for the whole run.
struct Plugin {
    void *dl = nullptr;
    const shopd_plugin *desc = nullptr;
    void *state = nullptr;

    Plugin() {
        const std::string path = std::string(PRICING_SO_DIR) + "/pricing.so";
        dl = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!dl) throw std::runtime_error(std::string("dlopen: ") + dlerror());
        auto entry = reinterpret_cast<shopd_plugin_entry_fn>(dlsym(dl, "pricing_shopd_plugin"));
        if (!entry) throw std::runtime_error("no pricing_shopd_plugin in " + path);
        desc = entry();
        char err[256] = "";
        if (desc->init(&kHostApi, &state, err, sizeof err) != 0)
            throw std::runtime_error(std::string("init: ") + err);
    }
};

const Plugin &plugin() {
    static const Plugin p;
    return p;
}

/// Calls service `name` with `input` inside `tx` (nullptr: no transaction), as the host does.
shopd_response call(pqxx::transaction_base *tx, const std::string &input,
                    const char *name = "price",
                    const char *caller_content_type = "application/json") {
    shopd_request req{};
    req.method = "POST";
    req.path = "/api/cart/items/";
    req.query = "";
    req.body = input.c_str();
    req.body_len = input.size();
    req.content_type = caller_content_type;
    req.params = nullptr;
    req.param_count = 0;
    req.bearer_token = "";
    req.is_admin = 0;
    req.idempotency_key = "";
    req.request_id = "pricing-service-itest";
    req.base_url = "http://localhost";
    req.db = tx ? &tx->conn() : nullptr;
    req.txn = tx;
    req.host = &kHostApi;
    req.host_ctx = nullptr;
    shopd_response resp;
    plugin().desc->serve(plugin().state, name, &req, &resp);
    return resp;
}

rapidjson::Document parse(const shopd_response &r) {
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    CPPUNIT_ASSERT_MESSAGE("not JSON: " + r.body, !d.HasParseError() && d.IsObject());
    return d;
}

std::string str(const rapidjson::Value &v) {
    return std::string(v.GetString(), v.GetStringLength());
}

struct Seeded {
    long long product = 0, variant = 0;
};

/// A product of base 500.00 with a variant of +50.00, inside `tx` (never committed).
Seeded seed(pqxx::work &tx) {
    const auto category =
        tx.exec_params1("INSERT INTO categories (name, slug) VALUES ('svc', $1) RETURNING id",
                        unique("svc-cat"))[0]
            .as<long long>();
    const auto product =
        tx.exec_params1(
              "INSERT INTO products (name, category_id, base_price) VALUES ('svc', $1, 500.00) RETURNING id",
              category)[0]
            .as<long long>();
    const auto variant =
        tx.exec_params1(
              "INSERT INTO variants (product_id, sku, name, price_delta) VALUES ($1, $2, 'v', 50.00) "
              "RETURNING id",
              product, unique("SVC-SKU"))[0]
            .as<long long>();
    return {product, variant};
}

/// A customer inside `tx` (never committed).
long long seed_customer(pqxx::work &tx, const std::string &tier) {
    return tx
        .exec_params1(
            "INSERT INTO customers (name, tier, token_hash) VALUES ('svc', $1, $2) RETURNING id",
            tier, unique("svc-token-hash"))[0]
        .as<long long>();
}

/// A CUSTOMER rule inside `tx`; `window` is SQL for (valid_from, valid_until).
void seed_customer_rule(pqxx::work &tx, long long customer, const std::string &percent,
                        const std::string &window = "NULL, NULL") {
    tx.exec_params(
        "INSERT INTO pricing_rules (kind, customer_id, percent_off, valid_from, "
        "valid_until) VALUES ('CUSTOMER', $1, $2::numeric, " +
            window + ")",
        customer, percent);
}

std::string input_for(long long variant, const std::string &more) {
    return R"({"variant_id":)" + std::to_string(variant) + more + "}";
}

void assert_problem_reply(const shopd_response &r, int status, const std::string &what) {
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what + ": " + r.body, status, r.status);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what, std::string("application/problem+json"), r.content_type);
    const auto d = parse(r);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what, status, d["status"].GetInt());
}

bool has_error(const shopd_response &r, const char *field) {
    const auto d = parse(r);
    return d.HasMember("errors") && d["errors"].HasMember(field);
}

}  // namespace

class PricingServiceITest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PricingServiceITest);
    CPPUNIT_TEST(descriptorOffersPrice);
    CPPUNIT_TEST(seedExampleInCallersTransaction);
    CPPUNIT_TEST(defaultsToOneUnitAtStandard);
    CPPUNIT_TEST(callerContentTypeDoesNotMatter);
    CPPUNIT_TEST(unknownVariantIs404);
    CPPUNIT_TEST(invalidInputIs400AndLeavesTransactionUsable);
    CPPUNIT_TEST(unknownServiceIs404);
    CPPUNIT_TEST(noTransactionIs500NotACrash);
    CPPUNIT_TEST(customerRuleForTheNamedCustomerOnly);
    CPPUNIT_TEST(customerRuleOutsideItsWindowIgnored);
    CPPUNIT_TEST(invalidCustomerIdIs400);
    CPPUNIT_TEST(archivedVariantOrProductIs404);
    CPPUNIT_TEST_SUITE_END();

    pqxx::connection *conn_ = nullptr;

public:
    void setUp() override { conn_ = new pqxx::connection(env("SHOPD_DATABASE_URL")); }
    void tearDown() override {
        delete conn_;
        conn_ = nullptr;
    }

    void descriptorOffersPrice() {
        const auto *d = plugin().desc;
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(SHOPD_PLUGIN_ABI_VERSION), d->abi_version);
        CPPUNIT_ASSERT_EQUAL(std::string(SHOPD_BUILD_SIGNATURE), std::string(d->build_signature));
        CPPUNIT_ASSERT_EQUAL(std::string("pricing"), std::string(d->name));
        CPPUNIT_ASSERT_EQUAL(std::string("1.0.0"), std::string(d->version));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), d->service_count);
        CPPUNIT_ASSERT_EQUAL(std::string("price"), std::string(d->services[0]));
        CPPUNIT_ASSERT(d->serve != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), d->required_count);  // pricing calls no other plugin
    }

    void seedExampleInCallersTransaction() {
        pqxx::work tx(*conn_);
        const auto s = seed(tx);
        const auto r = call(&tx, R"({"variant_id":)" + std::to_string(s.variant) +
                                     R"(,"quantity":10,"tier":"GOLD"})");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body, 200, r.status);
        CPPUNIT_ASSERT_EQUAL(std::string("application/json; charset=utf-8"), r.content_type);
        const auto d = parse(r);
        CPPUNIT_ASSERT_EQUAL(s.product, static_cast<long long>(d["product_id"].GetInt64()));
        CPPUNIT_ASSERT_EQUAL(s.variant, static_cast<long long>(d["variant_id"].GetInt64()));
        CPPUNIT_ASSERT_EQUAL(10, d["quantity"].GetInt());
        CPPUNIT_ASSERT_EQUAL(std::string("GOLD"), str(d["tier"]));
        CPPUNIT_ASSERT_EQUAL(std::string("420.75"), str(d["unit_price"]));
        CPPUNIT_ASSERT_EQUAL(std::string("4207.50"), str(d["total"]));
        CPPUNIT_ASSERT_EQUAL(std::string("pricing/1.0.0"), str(d["engine"]));
        CPPUNIT_ASSERT_EQUAL(7u, d.MemberCount());
        // The caller's transaction is still usable after the call.
        CPPUNIT_ASSERT_EQUAL(1, tx.exec1("SELECT 1")[0].as<int>());
        tx.abort();
    }

    void defaultsToOneUnitAtStandard() {
        pqxx::work tx(*conn_);
        const auto s = seed(tx);
        const auto d = parse(call(&tx, R"({"variant_id":")" + std::to_string(s.variant) + R"("})"));
        CPPUNIT_ASSERT_EQUAL(1, d["quantity"].GetInt());
        CPPUNIT_ASSERT_EQUAL(std::string("STANDARD"), str(d["tier"]));
        CPPUNIT_ASSERT_EQUAL(std::string("550.00"), str(d["unit_price"]));
        CPPUNIT_ASSERT_EQUAL(std::string("550.00"), str(d["total"]));
    }

    void callerContentTypeDoesNotMatter() {
        // The input is the service's, not the caller's HTTP body: a caller answering a request
        // without a JSON body (e.g. checkout) must not get a 415.
        pqxx::work tx(*conn_);
        const auto s = seed(tx);
        for (const char *type : {"", "text/plain"}) {
            const auto r =
                call(&tx, R"({"variant_id":)" + std::to_string(s.variant) + "}", "price", type);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(std::string(type) + ": " + r.body, 200, r.status);
        }
    }

    void unknownVariantIs404() {
        pqxx::work tx(*conn_);
        assert_problem_reply(call(&tx, R"({"variant_id":999999999999,"quantity":1})"), 404,
                             "unknown variant");
        CPPUNIT_ASSERT_EQUAL(1, tx.exec1("SELECT 1")[0].as<int>());
    }

    void invalidInputIs400AndLeavesTransactionUsable() {
        pqxx::work tx(*conn_);
        auto r = call(&tx, R"({"quantity":0,"tier":"gold"})");
        assert_problem_reply(r, 400, "bad fields");
        CPPUNIT_ASSERT(has_error(r, "variant_id") && has_error(r, "quantity") &&
                       has_error(r, "tier"));
        r = call(&tx, R"({"variant_id":1,"quantity":10001})");
        assert_problem_reply(r, 400, "quantity above 10000");
        CPPUNIT_ASSERT(has_error(r, "quantity"));
        assert_problem_reply(call(&tx, "not json"), 400, "not JSON");
        assert_problem_reply(call(&tx, "[1]"), 400, "not an object");
        assert_problem_reply(call(&tx, ""), 400, "empty input");
        CPPUNIT_ASSERT_EQUAL(1, tx.exec1("SELECT 1")[0].as<int>());
    }

    void unknownServiceIs404() {
        pqxx::work tx(*conn_);
        assert_problem_reply(call(&tx, R"({"variant_id":1})", "discount"), 404, "unknown service");
    }

    void noTransactionIs500NotACrash() {
        assert_problem_reply(call(nullptr, R"({"variant_id":1})"), 500, "no caller transaction");
    }

    void customerRuleForTheNamedCustomerOnly() {
        pqxx::work tx(*conn_);
        const auto s = seed(tx);
        const auto customer = seed_customer(tx, "GOLD");
        const auto other = seed_customer(tx, "GOLD");
        seed_customer_rule(tx, customer, "10");
        // After the seed example's two steps: 420.75 - 10 % = 378.675 -> 378.68.
        auto d =
            parse(call(&tx, input_for(s.variant, R"(,"quantity":10,"tier":"GOLD","customer_id":)" +
                                                     std::to_string(customer))));
        CPPUNIT_ASSERT_EQUAL(std::string("378.68"), str(d["unit_price"]));
        CPPUNIT_ASSERT_EQUAL(std::string("3786.80"), str(d["total"]));
        CPPUNIT_ASSERT_EQUAL(7u, d.MemberCount());  // the output is unchanged in shape
        // The same as a string; another customer, none, or null: the seed example.
        d = parse(call(&tx, input_for(s.variant, R"(,"quantity":10,"tier":"GOLD","customer_id":")" +
                                                     std::to_string(customer) + "\"")));
        CPPUNIT_ASSERT_EQUAL(std::string("378.68"), str(d["unit_price"]));
        for (const std::string &more :
             {R"(,"quantity":10,"tier":"GOLD","customer_id":)" + std::to_string(other),
              std::string(R"(,"quantity":10,"tier":"GOLD")"),
              std::string(R"(,"quantity":10,"tier":"GOLD","customer_id":null)")}) {
            d = parse(call(&tx, input_for(s.variant, more)));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(more, std::string("420.75"), str(d["unit_price"]));
        }
        // The tier is the caller's to send: a customer at STANDARD gets only the customer step.
        d = parse(call(&tx, input_for(s.variant, R"(,"customer_id":)" + std::to_string(customer))));
        CPPUNIT_ASSERT_EQUAL(std::string("495.00"), str(d["unit_price"]));  // 550.00 - 10 %
        tx.abort();
    }

    void customerRuleOutsideItsWindowIgnored() {
        pqxx::work tx(*conn_);
        const auto s = seed(tx);
        const auto future = seed_customer(tx, "STANDARD");
        const auto expired = seed_customer(tx, "STANDARD");
        const auto current = seed_customer(tx, "STANDARD");
        seed_customer_rule(tx, future, "50", "now() + interval '1 minute', NULL");
        seed_customer_rule(tx, expired, "50", "NULL, now()");  // valid_until is exclusive
        seed_customer_rule(tx, current, "50", "now(), now() + interval '1 minute'");
        for (const auto &[customer, price] : std::vector<std::pair<long long, std::string>>{
                 {future, "550.00"}, {expired, "550.00"}, {current, "275.00"}}) {
            const auto d = parse(
                call(&tx, input_for(s.variant, R"(,"customer_id":)" + std::to_string(customer))));
            CPPUNIT_ASSERT_EQUAL(price, str(d["unit_price"]));
        }
        tx.abort();
    }

    void invalidCustomerIdIs400() {
        pqxx::work tx(*conn_);
        for (const char *bad : {"0", "-1", R"("x")", "1.5", "[]"}) {
            const auto r = call(&tx, std::string(R"({"variant_id":1,"customer_id":)") + bad + "}");
            assert_problem_reply(r, 400, std::string("customer_id ") + bad);
            CPPUNIT_ASSERT(has_error(r, "customer_id"));
        }
        CPPUNIT_ASSERT_EQUAL(1, tx.exec1("SELECT 1")[0].as<int>());
    }

    void archivedVariantOrProductIs404() {
        pqxx::work tx(*conn_);
        const auto s = seed(tx);
        const std::string input = input_for(s.variant, "");
        CPPUNIT_ASSERT_EQUAL(200, call(&tx, input).status);
        tx.exec_params("UPDATE variants SET archived_at = now() WHERE id = $1", s.variant);
        assert_problem_reply(call(&tx, input), 404, "archived variant");
        tx.exec_params("UPDATE variants SET archived_at = NULL WHERE id = $1", s.variant);
        tx.exec_params("UPDATE products SET archived_at = now() WHERE id = $1", s.product);
        assert_problem_reply(call(&tx, input), 404, "archived product");
        CPPUNIT_ASSERT_EQUAL(1, tx.exec1("SELECT 1")[0].as<int>());
        tx.abort();
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PricingServiceITest);
