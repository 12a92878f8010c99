// Integration tests of the customers plugin through nginx + shopd + PostgreSQL: creating
// customers, the admin's list/detail/PATCH, and token rotation by the customer and by the admin.
#include "http_client.hpp"

#include <cppunit/extensions/HelperMacros.h>
#include <pqxx/pqxx>

#include <thread>

using namespace shopd::test;

namespace {

/// Ids past int64 never reach the database (404), so the largest int64 is the unknown id.
const std::string kUnknownId = "9223372036854775807";

struct NewCustomer {
    long long id = 0;
    std::string name;
    std::string token;
};

NewCustomer create_customer(Http &http, const std::string &tier = "STANDARD") {
    const std::string name = unique("cust");
    const auto r = http.post(
        "/api/customers/", "{\"name\":\"" + name + "\",\"tier\":\"" + tier + "\"}", admin_token());
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201L, r.status);
    const auto d = r.json();
    return {d["id"].GetInt64(), name, d["token"].GetString()};
}

std::string customer_path(long long id) { return "/api/customers/" + std::to_string(id) + "/"; }
std::string token_path(long long id) { return customer_path(id) + "token/"; }

/// The customers row as "name|tier|token_hash", to prove a refused request wrote nothing.
std::string customer_row(long long id) {
    pqxx::connection c(env("SHOPD_DATABASE_URL"));
    pqxx::read_transaction tx(c);
    const auto r = tx.exec_params1(
        "SELECT name || '|' || tier || '|' || token_hash FROM customers "
        "WHERE id = $1",
        id);
    return r[0].c_str();
}

/// Whether the stored hash is SHA-256(token): the new token is stored hashed, never in clear.
bool stored_hash_is_of(long long id, const std::string &token) {
    pqxx::connection c(env("SHOPD_DATABASE_URL"));
    pqxx::read_transaction tx(c);
    return tx
        .exec_params1(
            "SELECT token_hash = encode(sha256(convert_to($2, 'UTF8')), 'hex') "
            "FROM customers WHERE id = $1",
            id, token)[0]
        .as<bool>();
}

/// Customers with a smaller id: where `id` sits in the list ordered by id. Rows are never
/// deleted, so other tests creating customers meanwhile cannot move it.
long long rows_before(long long id) {
    pqxx::connection c(env("SHOPD_DATABASE_URL"));
    pqxx::read_transaction tx(c);
    return tx.exec_params1("SELECT count(*) FROM customers WHERE id < $1", id)[0].as<long long>();
}

/// A customer as the admin API shows it: exactly id, name and tier (never a token or hash).
void assert_customer(const rapidjson::Value &c, long long id, const std::string &name,
                     const std::string &tier) {
    CPPUNIT_ASSERT(c.IsObject());
    CPPUNIT_ASSERT_EQUAL(3u, c.MemberCount());
    CPPUNIT_ASSERT_EQUAL(id, static_cast<long long>(c["id"].GetInt64()));
    CPPUNIT_ASSERT_EQUAL(name, std::string(c["name"].GetString()));
    CPPUNIT_ASSERT_EQUAL(tier, std::string(c["tier"].GetString()));
}

/// The {"token"} body of a rotation: exactly one member, 256 bits as 64 hex digits.
std::string token_of(const Response &r) {
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201L, r.status);
    const auto d = r.json();
    CPPUNIT_ASSERT_EQUAL(1u, d.MemberCount());
    const std::string token = d["token"].GetString();
    CPPUNIT_ASSERT_EQUAL(std::size_t(64), token.size());
    CPPUNIT_ASSERT(token.find_first_not_of("0123456789abcdef") == std::string::npos);
    return token;
}

}  // namespace

class CustomersITest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CustomersITest);
    CPPUNIT_TEST(createsCustomerWithHashedToken);
    CPPUNIT_TEST(requiresAdmin);
    CPPUNIT_TEST(validationErrorsWriteNothing);
    CPPUNIT_TEST(nonJsonBodyIs415);
    CPPUNIT_TEST(listsCustomersByIdInPages);
    CPPUNIT_TEST(showsOneCustomer);
    CPPUNIT_TEST(patchUpdatesGivenFields);
    CPPUNIT_TEST(patchBadInputWritesNothing);
    CPPUNIT_TEST(patchUnknownCustomerIs404);
    CPPUNIT_TEST(adminRoutesNeedAdminToken);
    CPPUNIT_TEST(customerRotatesOwnToken);
    CPPUNIT_TEST(ownRotationNeedsValidCustomerToken);
    CPPUNIT_TEST(concurrentRotationsWithOneTokenIssueOne);
    CPPUNIT_TEST(adminRotatesToken);
    CPPUNIT_TEST(adminRotationAuthAndUnknownId);
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

    // ---- admin list / detail / PATCH --------------------------------------------------------

    void listsCustomersByIdInPages() {
        Http http;
        const auto a = create_customer(http, "GOLD");
        const auto b = create_customer(http, "SILVER");
        const auto c = create_customer(http);
        const long long before_a = rows_before(a.id);

        // Page size 1: page n holds the n-th customer by id, so a, b, c are consecutive pages.
        const auto p = http.get("/api/customers/?page_size=1&page=" + std::to_string(before_a + 1),
                                admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(p.describe(), 200L, p.status);
        const auto d = p.json();
        CPPUNIT_ASSERT(d["count"].GetInt64() >= before_a + 3);
        CPPUNIT_ASSERT_EQUAL(1u, d["results"].Size());
        assert_customer(d["results"][0], a.id, a.name, "GOLD");
        CPPUNIT_ASSERT(d["next"].IsString());
        CPPUNIT_ASSERT(
            std::string(d["next"].GetString()).find("page=" + std::to_string(before_a + 2)) !=
            std::string::npos);
        CPPUNIT_ASSERT(before_a == 0 ? d["previous"].IsNull() : d["previous"].IsString());

        // A full page is in ascending id order and shows no token.
        const auto q = http.get("/api/customers/?page_size=100&page=1", admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(q.describe(), 200L, q.status);
        const auto e = q.json();
        CPPUNIT_ASSERT(e["results"].Size() <= 100u);
        long long last = 0;
        for (const auto &row : e["results"].GetArray()) {
            CPPUNIT_ASSERT_EQUAL(3u, row.MemberCount());  // id, name, tier: never a token
            CPPUNIT_ASSERT(row["id"].GetInt64() > last);
            last = row["id"].GetInt64();
        }

        const auto pb =
            http.get("/api/customers/?page_size=1&page=" + std::to_string(rows_before(b.id) + 1),
                     admin_token());
        assert_customer(pb.json()["results"][0], b.id, b.name, "SILVER");
        const auto pc =
            http.get("/api/customers/?page_size=1&page=" + std::to_string(rows_before(c.id) + 1),
                     admin_token());
        assert_customer(pc.json()["results"][0], c.id, c.name, "STANDARD");

        // Default page size 20; a page past the end and a non-page are 404 problems.
        const auto def = http.get("/api/customers/", admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(def.describe(), 200L, def.status);
        CPPUNIT_ASSERT(def.json()["results"].Size() <= 20u);
        assert_problem(http.get("/api/customers/?page=1000000000", admin_token()), 404,
                       "page past the end");
        assert_problem(http.get("/api/customers/?page=0", admin_token()), 404, "page 0");
    }

    void showsOneCustomer() {
        Http http;
        const auto a = create_customer(http, "PLATINUM");
        const auto r = http.get(customer_path(a.id), admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        assert_customer(r.json(), a.id, a.name, "PLATINUM");
        CPPUNIT_ASSERT_EQUAL(200L, http.get("/api/customers/" + std::to_string(a.id),
                                            admin_token())
                                       .status);  // without the trailing slash
        assert_problem(http.get("/api/customers/" + kUnknownId + "/", admin_token()), 404,
                       "unknown customer");
        assert_problem(http.get("/api/customers/99999999999999999999/", admin_token()), 404,
                       "id past int64");
    }

    void patchUpdatesGivenFields() {
        Http http;
        const auto a = create_customer(http, "SILVER");
        const std::string renamed = unique("renamed");

        auto r = http.patch(customer_path(a.id), "{\"name\":\"" + renamed + "\"}", admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        assert_customer(r.json(), a.id, renamed, "SILVER");  // tier unchanged

        r = http.patch(customer_path(a.id), "{\"tier\":\"GOLD\",\"token\":\"mine\",\"id\":1}",
                       admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        assert_customer(r.json(), a.id, renamed, "GOLD");  // unknown fields ignored

        const std::string before = customer_row(a.id);
        r = http.patch(customer_path(a.id), "{}", admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        assert_customer(r.json(), a.id, renamed, "GOLD");  // {} is a no-op
        CPPUNIT_ASSERT_EQUAL(before, customer_row(a.id));

        // Read back, and the token still belongs to the customer (PATCH never touches it).
        assert_customer(http.get(customer_path(a.id), admin_token()).json(), a.id, renamed, "GOLD");
        CPPUNIT_ASSERT_EQUAL(200L, http.get("/api/cart/", a.token).status);
        CPPUNIT_ASSERT(stored_hash_is_of(a.id, a.token));
    }

    void patchBadInputWritesNothing() {
        Http http;
        const auto a = create_customer(http, "SILVER");
        const std::string before = customer_row(a.id);
        const std::string path = customer_path(a.id);

        auto r = http.patch(path, "{\"name\":\"\",\"tier\":\"DIAMOND\"}", admin_token());
        assert_problem(r, 400, "blank name, bad tier");
        auto d = r.json();
        CPPUNIT_ASSERT(d["errors"].HasMember("name") && d["errors"].HasMember("tier"));

        // One good field beside a bad one: neither is written.
        r = http.patch(path, "{\"name\":\"fine\",\"tier\":\"gold\"}", admin_token());
        assert_problem(r, 400, "good name, bad tier");
        d = r.json();
        CPPUNIT_ASSERT(!d["errors"].HasMember("name") && d["errors"].HasMember("tier"));

        assert_problem(http.patch(path, "{\"name\":null}", admin_token()), 400, "null name");
        assert_problem(http.patch(path, "{\"tier\":null}", admin_token()), 400, "null tier");
        assert_problem(
            http.patch(path, "{\"name\":\"" + std::string(201, 'x') + "\"}", admin_token()), 400,
            "201-character name");
        assert_problem(http.patch(path, "{\"name\":true}", admin_token()), 400, "boolean as name");
        assert_problem(http.patch(path, "{\"tier\":[\"GOLD\"]}", admin_token()), 400,
                       "array as tier");
        assert_problem(http.patch(path, "[1]", admin_token()), 400, "array body");
        assert_problem(http.patch(path, "{\"name\":", admin_token()), 400, "malformed JSON");
        assert_problem(
            http.request("PATCH", path, "name=x", admin_token(), {{"Content-Type", "text/plain"}}),
            415, "text/plain body");
        CPPUNIT_ASSERT_EQUAL(before, customer_row(a.id));
    }

    void patchUnknownCustomerIs404() {
        Http http;
        const auto before = customer_count();
        assert_problem(
            http.patch("/api/customers/" + kUnknownId + "/", "{\"name\":\"x\"}", admin_token()),
            404, "unknown customer");
        assert_problem(http.patch("/api/customers/" + kUnknownId + "/", "{}", admin_token()), 404,
                       "unknown customer, empty patch");
        CPPUNIT_ASSERT_EQUAL(before, customer_count());
    }

    void adminRoutesNeedAdminToken() {
        Http http;
        const auto a = create_customer(http, "SILVER");
        const std::string before = customer_row(a.id);
        // No token, an unknown token, and a customer's own token are all not the admin.
        for (const std::string &token : {std::string(), std::string("nope"), a.token}) {
            const std::string who = token.empty()      ? "no token"
                                    : token == a.token ? "customer"
                                                       : "bad token";
            assert_problem(http.get("/api/customers/", token), 401, ("list, " + who).c_str());
            assert_problem(http.get(customer_path(a.id), token), 401, ("detail, " + who).c_str());
            assert_problem(http.get("/api/customers/" + kUnknownId + "/", token), 401,
                           ("unknown detail, " + who).c_str());
            assert_problem(http.patch(customer_path(a.id), "{\"tier\":\"PLATINUM\"}", token), 401,
                           ("patch, " + who).c_str());
            assert_problem(http.post(token_path(a.id), "", token), 401, ("rotate, " + who).c_str());
        }
        CPPUNIT_ASSERT_EQUAL(before, customer_row(a.id));
        CPPUNIT_ASSERT_EQUAL(200L, http.get("/api/cart/", a.token).status);
    }

    // ---- token rotation ---------------------------------------------------------------------

    void customerRotatesOwnToken() {
        Http http;
        const auto a = create_customer(http, "GOLD");
        const auto other = create_customer(http);
        CPPUNIT_ASSERT_EQUAL(200L, http.get("/api/cart/", a.token).status);

        const std::string fresh = token_of(http.post("/api/customers/me/token/", "", a.token));
        CPPUNIT_ASSERT(fresh != a.token);
        CPPUNIT_ASSERT(stored_hash_is_of(a.id, fresh));

        // The old token is dead at once; the new one is the same customer (same cart).
        assert_problem(http.get("/api/cart/", a.token), 401, "old token");
        const auto cart = http.get("/api/cart/", fresh);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(cart.describe(), 200L, cart.status);
        assert_problem(http.post("/api/customers/me/token/", "", a.token), 401,
                       "rotating with the old token");
        CPPUNIT_ASSERT(stored_hash_is_of(a.id, fresh));

        // Name and tier are untouched; other customers' tokens are untouched.
        assert_customer(http.get(customer_path(a.id), admin_token()).json(), a.id, a.name, "GOLD");
        CPPUNIT_ASSERT_EQUAL(200L, http.get("/api/cart/", other.token).status);

        // Rotating again works with the current token (and a body, if sent, is ignored).
        const std::string third =
            token_of(http.post("/api/customers/me/token/", "{\"token\":\"x\"}", fresh));
        assert_problem(http.get("/api/cart/", fresh), 401, "second old token");
        CPPUNIT_ASSERT_EQUAL(200L, http.get("/api/cart/", third).status);
    }

    void ownRotationNeedsValidCustomerToken() {
        Http http;
        const auto before = customer_count();
        assert_problem(http.post("/api/customers/me/token/", ""), 401, "no token");
        assert_problem(http.post("/api/customers/me/token/", "", "nope"), 401, "bad token");
        // The admin is not a customer: it rotates through /api/customers/<id>/token/.
        assert_problem(http.post("/api/customers/me/token/", "", admin_token()), 401,
                       "admin token");
        assert_problem(http.get("/api/customers/me/token/", admin_token()), 405, "GET");
        CPPUNIT_ASSERT_EQUAL(before, customer_count());
    }

    // Check and swap are one UPDATE on the old hash: two rotations racing with the same token
    // cannot both succeed (which would leave a client holding a token that never worked).
    void concurrentRotationsWithOneTokenIssueOne() {
        Http setup;
        for (int round = 0; round < 5; ++round) {
            const auto a = create_customer(setup);
            long statuses[2] = {0, 0};
            std::string tokens[2];
            auto rotate = [&](int i) {
                Http http;
                const auto r = http.post("/api/customers/me/token/", "", a.token);
                statuses[i] = r.status;
                if (r.status == 201) tokens[i] = r.json()["token"].GetString();
            };
            std::thread t0(rotate, 0);
            std::thread t1(rotate, 1);
            t0.join();
            t1.join();
            const int winner = statuses[0] == 201 ? 0 : 1;
            CPPUNIT_ASSERT_EQUAL(201L, statuses[winner]);
            CPPUNIT_ASSERT_EQUAL(401L, statuses[1 - winner]);
            CPPUNIT_ASSERT(stored_hash_is_of(a.id, tokens[winner]));
        }
    }

    void adminRotatesToken() {
        Http http;
        const auto a = create_customer(http, "SILVER");
        CPPUNIT_ASSERT_EQUAL(200L, http.get("/api/cart/", a.token).status);

        const std::string fresh = token_of(http.post(token_path(a.id), "", admin_token()));
        CPPUNIT_ASSERT(fresh != a.token);
        CPPUNIT_ASSERT(stored_hash_is_of(a.id, fresh));
        assert_problem(http.get("/api/cart/", a.token), 401, "old token");
        assert_problem(http.post("/api/customers/me/token/", "", a.token), 401,
                       "old token rotating");
        CPPUNIT_ASSERT_EQUAL(200L, http.get("/api/cart/", fresh).status);
        assert_customer(http.get(customer_path(a.id), admin_token()).json(), a.id, a.name,
                        "SILVER");

        // Each admin rotation kills the token before it.
        const std::string again = token_of(http.post(token_path(a.id), "", admin_token()));
        assert_problem(http.get("/api/cart/", fresh), 401, "first rotated token");
        CPPUNIT_ASSERT_EQUAL(200L, http.get("/api/cart/", again).status);
    }

    void adminRotationAuthAndUnknownId() {
        Http http;
        const auto before = customer_count();
        assert_problem(http.post("/api/customers/" + kUnknownId + "/token/", "", admin_token()),
                       404, "unknown customer");
        assert_problem(http.post("/api/customers/" + kUnknownId + "/token/", ""), 401,
                       "unknown customer, no token");
        assert_problem(http.post("/api/customers/abc/token/", "", admin_token()), 404,
                       "non-numeric id");
        CPPUNIT_ASSERT_EQUAL(before, customer_count());
        // A customer cannot rotate even its own token through the admin route.
        const auto a = create_customer(http);
        assert_problem(http.post(token_path(a.id), "", a.token), 401, "own token on admin route");
        CPPUNIT_ASSERT(stored_hash_is_of(a.id, a.token));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CustomersITest);
