// Integration tests of the host kernel through real nginx + shopd + PostgreSQL: operational
// routes, request ids, error statuses, body limits, plugin admin, database outage and recovery.
#include "http_client.hpp"

#include <cppunit/extensions/HelperMacros.h>

#include <sys/stat.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <thread>

using namespace shopd::test;

class HostITest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(HostITest);
    CPPUNIT_TEST(healthz);
    CPPUNIT_TEST(readyzWithDatabase);
    CPPUNIT_TEST(requestIdEchoedOrGenerated);
    CPPUNIT_TEST(unknownRouteIs404Problem);
    CPPUNIT_TEST(wrongMethodIs405WithAllow);
    CPPUNIT_TEST(pathWithoutTrailingSlashServedTheSame);
    CPPUNIT_TEST(bodyOverOneMebibyteIs413);
    CPPUNIT_TEST(metricsExposition);
    CPPUNIT_TEST(pluginListNeedsAdmin);
    CPPUNIT_TEST(pluginListShowsLoadedPlugins);
    CPPUNIT_TEST(conditionalGetAnswers304UntilTheCatalogChanges);
    CPPUNIT_TEST(corsPreflightAndHeadersForAllowedOriginsOnly);
    CPPUNIT_TEST(invalidUtf8InThePathIsNeverEchoedRaw);
    CPPUNIT_TEST(adminTokensRotateThroughTheFileAndSighup);
    CPPUNIT_TEST(secretsStayOffTheCommandLineAndOutOfOtherUsersReach);
    CPPUNIT_TEST(databaseOutageGives503ThenRecovers);
    CPPUNIT_TEST_SUITE_END();

    static bool contains(const std::string &text, const std::string &needle) {
        return text.find(needle) != std::string::npos;
    }

    /// Whether `path` answers 200 `streak` times in a row before `seconds` pass.
    static bool succeeds_in_a_row(Http &http, const std::string &path, int streak, int seconds) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
        int run = 0;
        while (run < streak && std::chrono::steady_clock::now() < deadline) {
            if (http.get(path).status == 200) {
                ++run;
            } else {
                run = 0;
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        }
        return run >= streak;
    }

public:
    void healthz() {
        Http http;
        const auto r = http.get("/healthz");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        CPPUNIT_ASSERT_EQUAL(std::string("ok"), std::string(r.json()["status"].GetString()));
    }

    void readyzWithDatabase() {
        Http http;
        const auto r = http.get("/readyz");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
    }

    void requestIdEchoedOrGenerated() {
        Http http;
        auto r = http.request("GET", "/healthz/", "", "", {{"X-Request-Id", "test-req-123"}});
        CPPUNIT_ASSERT_EQUAL(std::string("test-req-123"), r.header("X-Request-Id"));
        r = http.get("/healthz/");
        const std::string first = r.header("X-Request-Id");
        CPPUNIT_ASSERT(first.size() >= 16);
        CPPUNIT_ASSERT(first != http.get("/healthz/").header("X-Request-Id"));
        // An error response carries one too.
        CPPUNIT_ASSERT(!http.get("/api/does-not-exist/").header("X-Request-Id").empty());
    }

    void unknownRouteIs404Problem() {
        Http http;
        assert_problem(http.get("/api/does-not-exist/"), 404, "unknown route");
        assert_problem(http.get("/api/customers/abc/"), 404, "non-numeric id");
    }

    void wrongMethodIs405WithAllow() {
        Http http;
        const auto r = http.get("/api/cart/checkout/");
        assert_problem(r, 405, "GET on a POST-only route");
        CPPUNIT_ASSERT(contains(r.header("Allow"), "POST"));
        assert_problem(http.post("/healthz/", "{}"), 405, "POST /healthz");
    }

    void pathWithoutTrailingSlashServedTheSame() {
        Http http;
        CPPUNIT_ASSERT_EQUAL(200L, http.get("/healthz").status);
        CPPUNIT_ASSERT_EQUAL(200L, http.get("/healthz/").status);
    }

    void bodyOverOneMebibyteIs413() {
        Http http;
        const std::string big(2 * 1024 * 1024, ' ');
        assert_problem(http.post("/api/customers/", big, admin_token()), 413, "2 MiB body");
        // The connection and the host are fine afterwards.
        CPPUNIT_ASSERT_EQUAL(200L, http.get("/healthz/").status);
    }

    void metricsExposition() {
        Http http;
        http.get("/healthz/");
        const auto r = http.get("/metrics");
        CPPUNIT_ASSERT_EQUAL(200L, r.status);
        CPPUNIT_ASSERT(contains(r.header("Content-Type"), "text/plain"));
        CPPUNIT_ASSERT(
            contains(r.body, "shopd_requests_total{route=\"GET /healthz/\",status=\"200\"}"));
        CPPUNIT_ASSERT(contains(r.body, "shopd_request_duration_seconds_bucket{le=\"+Inf\"}"));
        CPPUNIT_ASSERT(contains(r.body, "shopd_plugin_info{name=\"customers\""));
        // Latency by route pattern (never the raw path) and status.
        const auto missing = http.get("/api/products/987654321/");
        CPPUNIT_ASSERT_EQUAL(404L, missing.status);
        const auto after = http.get("/metrics").body;
        CPPUNIT_ASSERT(contains(after,
                                "shopd_route_duration_seconds_count{route=\"GET "
                                "/api/products/{id}/\",status=\"404\"} "));
        CPPUNIT_ASSERT(contains(after,
                                "shopd_route_duration_seconds_bucket{route=\"GET "
                                "/healthz/\",status=\"200\",le=\"+Inf\"} "));
        CPPUNIT_ASSERT(!contains(after, "987654321"));
    }

    void pluginListNeedsAdmin() {
        Http http;
        assert_problem(http.get("/api/admin/plugins/"), 401, "no token");
        assert_problem(http.get("/api/admin/plugins/", "wrong-token"), 401, "bad token");
        assert_problem(http.post("/api/admin/plugins/reload/", ""), 401, "reload without token");
    }

    void pluginListShowsLoadedPlugins() {
        Http http;
        const auto r = http.get("/api/admin/plugins/", admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        const auto doc = r.json();
        CPPUNIT_ASSERT(doc.IsArray() && doc.Size() >= 1);
        bool customers = false;
        for (const auto &p : doc.GetArray()) {
            for (const char *k : {"name", "version", "abi", "path", "loaded_at"})
                CPPUNIT_ASSERT_MESSAGE(k, p.HasMember(k));
            customers |= std::string(p["name"].GetString()) == "customers";
        }
        CPPUNIT_ASSERT(customers);
    }

    void conditionalGetAnswers304UntilTheCatalogChanges() {
        Http http;
        const auto first = http.get("/api/categories/?page_size=100");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(first.describe(), 200L, first.status);
        const std::string tag = first.header("ETag");
        CPPUNIT_ASSERT_MESSAGE("strong ETag", tag.size() > 2 && tag.front() == '"');
        const Headers cached{{"If-None-Match", tag}};
        const auto again = http.request("GET", "/api/categories/?page_size=100", "", "", cached);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(again.describe(), 304L, again.status);
        CPPUNIT_ASSERT(again.body.empty());
        CPPUNIT_ASSERT_EQUAL(tag, again.header("ETag"));
        CPPUNIT_ASSERT(!again.header("X-Request-Id").empty());
        // Another representation: the tag no longer matches, the full body comes back.
        const std::string body = "{\"name\":\"" + unique("etag") + "\"}";
        CPPUNIT_ASSERT_EQUAL(201L, http.post("/api/categories/", body, admin_token()).status);
        const auto changed = http.request("GET", "/api/categories/?page_size=100", "", "", cached);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(changed.describe(), 200L, changed.status);
        CPPUNIT_ASSERT(changed.header("ETag") != tag);
        // Errors carry no tag, and a tag never turns them into 304.
        const auto missing =
            http.request("GET", "/api/products/999999999/", "", "", {{"If-None-Match", "*"}});
        CPPUNIT_ASSERT_EQUAL(404L, missing.status);
        CPPUNIT_ASSERT(missing.header("ETag").empty());
    }

    void corsPreflightAndHeadersForAllowedOriginsOnly() {
        const std::string allowed =
            env("SHOPD_CORS_ORIGINS").substr(0, env("SHOPD_CORS_ORIGINS").find(','));
        CPPUNIT_ASSERT_MESSAGE("the test stack allows an origin", !allowed.empty());
        Http http;
        const auto preflight =
            http.request("OPTIONS", "/api/cart/items/", "", "",
                         {{"Origin", allowed},
                          {"Access-Control-Request-Method", "POST"},
                          {"Access-Control-Request-Headers", "authorization, content-type"}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(preflight.describe(), 204L, preflight.status);
        CPPUNIT_ASSERT_EQUAL(allowed, preflight.header("Access-Control-Allow-Origin"));
        CPPUNIT_ASSERT(contains(preflight.header("Access-Control-Allow-Methods"), "POST"));
        for (const char *h : {"Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"})
            CPPUNIT_ASSERT_MESSAGE(h,
                                   contains(preflight.header("Access-Control-Allow-Headers"), h));
        CPPUNIT_ASSERT(!preflight.header("Access-Control-Max-Age").empty());

        const auto get = http.request("GET", "/api/products/", "", "", {{"Origin", allowed}});
        CPPUNIT_ASSERT_EQUAL(200L, get.status);
        CPPUNIT_ASSERT_EQUAL(allowed, get.header("Access-Control-Allow-Origin"));
        CPPUNIT_ASSERT(contains(get.header("Vary"), "Origin"));
        for (const char *h : {"X-Request-Id", "Retry-After", "Idempotent-Replayed", "ETag"})
            CPPUNIT_ASSERT_MESSAGE(h, contains(get.header("Access-Control-Expose-Headers"), h));
        // Errors to an allowed origin are readable too (a front end must see the problem).
        const auto problem = http.request("GET", "/api/cart/", "", "", {{"Origin", allowed}});
        CPPUNIT_ASSERT_EQUAL(401L, problem.status);
        CPPUNIT_ASSERT_EQUAL(allowed, problem.header("Access-Control-Allow-Origin"));

        const std::string stranger = "http://stranger.example";
        const auto denied =
            http.request("OPTIONS", "/api/cart/items/", "", "",
                         {{"Origin", stranger}, {"Access-Control-Request-Method", "POST"}});
        CPPUNIT_ASSERT(denied.header("Access-Control-Allow-Origin").empty());
        CPPUNIT_ASSERT(denied.status != 204);
        const auto plain = http.request("GET", "/api/products/", "", "", {{"Origin", stranger}});
        CPPUNIT_ASSERT_EQUAL(200L, plain.status);
        CPPUNIT_ASSERT(plain.header("Access-Control-Allow-Origin").empty());
        CPPUNIT_ASSERT(plain.header("Access-Control-Expose-Headers").empty());
    }

    void invalidUtf8InThePathIsNeverEchoedRaw() {
        Http http;
        const std::string rid = unique("badutf8");
        const auto r = http.request("GET", "/api/%FF%FE%C0/", "", "", {{"X-Request-Id", rid}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 404L, r.status);
        CPPUNIT_ASSERT(r.json().IsObject());  // valid JSON, so valid UTF-8
        CPPUNIT_ASSERT(contains(r.body, "%FF%FE%C0"));
        // Its log line is whole JSON too, with the path escaped the same way.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        std::ifstream log(env("SHOPD_VAR") + "/log/shopd.log");
        std::string line, found;
        while (std::getline(log, line))
            if (contains(line, rid)) found = line;
        CPPUNIT_ASSERT_MESSAGE("a log line for the request", !found.empty());
        CPPUNIT_ASSERT(contains(found, "\"path\":\"/api/%FF%FE%C0/\""));
        CPPUNIT_ASSERT(contains(found, "\"problem\":\"Not Found\""));
    }

    /// Polls until GET /api/admin/plugins/ with `token` answers `status` (SIGHUP is asynchronous).
    static bool admin_status_becomes(Http &http, const std::string &token, long status) {
        for (int i = 0; i < 100; ++i) {
            if (http.get("/api/admin/plugins/", token).status == status) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    }

    static void hup_host() {
        CPPUNIT_ASSERT_EQUAL(0, kill(static_cast<pid_t>(std::stol(env("SHOPD_HOST_PID"))), SIGHUP));
    }

    void adminTokensRotateThroughTheFileAndSighup() {
        const std::string file = env("SHOPD_VAR") + "/run/admin-tokens";
        const std::string old_token = admin_token();
        const std::string new_token = unique("rotated-admin-token");
        Http http;
        CPPUNIT_ASSERT_EQUAL(401L, http.get("/api/admin/plugins/", new_token).status);
        try {
            std::ofstream(file) << old_token << "\n" << new_token << "\n";  // both valid
            hup_host();
            CPPUNIT_ASSERT_MESSAGE("new token accepted",
                                   admin_status_becomes(http, new_token, 200));
            CPPUNIT_ASSERT_EQUAL(200L, http.get("/api/admin/plugins/", old_token).status);
        } catch (...) {
            std::ofstream(file) << old_token << "\n";
            hup_host();
            throw;
        }
        std::ofstream(file) << old_token << "\n";  // the new one removed again: dead at once
        hup_host();
        CPPUNIT_ASSERT_MESSAGE("removed token refused", admin_status_becomes(http, new_token, 401));
        CPPUNIT_ASSERT_EQUAL(200L, http.get("/api/admin/plugins/", old_token).status);
    }

    void secretsStayOffTheCommandLineAndOutOfOtherUsersReach() {
        std::ifstream cmdline("/proc/" + env("SHOPD_HOST_PID") + "/cmdline");
        const std::string args((std::istreambuf_iterator<char>(cmdline)),
                               std::istreambuf_iterator<char>());
        CPPUNIT_ASSERT(!args.empty());
        CPPUNIT_ASSERT_MESSAGE("admin token not in ps",
                               args.find(admin_token()) == std::string::npos);
        for (const std::string file : {"/stack.env", "/run/admin-tokens"}) {
            struct stat st {};
            CPPUNIT_ASSERT_EQUAL(0, stat((env("SHOPD_VAR") + file).c_str(), &st));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(file + " is private", 0600,
                                         static_cast<int>(st.st_mode & 0777));
        }
    }

    void databaseOutageGives503ThenRecovers() {
        const std::string stack = env("SHOPD_REPO") + "/scripts/stack";
        Http http;
        CPPUNIT_ASSERT_EQUAL(0, std::system((stack + " pg-stop >/dev/null").c_str()));
        try {
            assert_problem(http.get("/readyz/"), 503, "readyz with the database down");
            const std::string body = "{\"name\":\"" + unique("outage") + "\"}";
            assert_problem(http.post("/api/customers/", body, admin_token()), 503,
                           "write with the database down");
            assert_problem(http.get("/api/products/"), 503, "catalog read with the database down");
            CPPUNIT_ASSERT_EQUAL(std::string("1"),
                                 http.get("/api/products/").header("Retry-After"));
            CPPUNIT_ASSERT_EQUAL(200L, http.get("/healthz/").status);  // the process itself is fine
        } catch (...) {
            std::system((stack + " pg-start >/dev/null").c_str());
            throw;
        }
        CPPUNIT_ASSERT_EQUAL(0, std::system((stack + " pg-start >/dev/null").c_str()));
        // Every worker reconnects on its own (after a short back-off): within 10 s, 80 requests in
        // a row, spread over the workers by nginx, all succeed, and go on succeeding.
        CPPUNIT_ASSERT_MESSAGE("no recovery within 10 s",
                               succeeds_in_a_row(http, "/readyz/", 80, 10));
        const std::string body = "{\"name\":\"" + unique("after-outage") + "\"}";
        CPPUNIT_ASSERT_EQUAL(201L, http.post("/api/customers/", body, admin_token()).status);
        for (int i = 0; i < 40; ++i) CPPUNIT_ASSERT_EQUAL(200L, http.get("/api/products/").status);
        for (int i = 0; i < 40; ++i) CPPUNIT_ASSERT_EQUAL(200L, http.get("/readyz/").status);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HostITest);
