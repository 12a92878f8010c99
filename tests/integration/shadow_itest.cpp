// Shadow mode through a host of our own (tests/support/own_stack) with --pricing.max-discount=20
// and a plugin dir of its own (promote installs files there): the capped pricing example in
// shadow differs exactly on the quotes its cap changes; a candidate that crashes in shadow
// changes nothing for clients; promote, rollback, stop, errors; shopctl's shadow commands.
#include "http_client.hpp"
#include "own_stack.hpp"

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace shopd::test;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kCapPercent = 20;

/// "12.50" -> 1250 (the API's money strings).
std::int64_t cents(const std::string &money) {
    const auto dot = money.find('.');
    return std::stoll(money.substr(0, dot)) * 100 + std::stoll(money.substr(dot + 1));
}

/// Whether the cap changes this served quote: its unit price is below the floor the cap sets,
/// (base + adjustment) less kCapPercent, rounded half-up to the cent.
bool cap_changes(const rapidjson::Document &quote) {
    const std::int64_t list =
        cents(quote["base_price"].GetString()) + cents(quote["variant_adjustment"].GetString());
    const std::int64_t floor = (list * (100 - kCapPercent) * 100 + 5000) / 10000;
    return cents(quote["unit_price"].GetString()) < floor;
}

/// A plugin dir of our own: copies of the shared stack's plugin files.
std::string copy_plugin_dir() {
    const fs::path dir = fs::temp_directory_path() / unique("shopd-shadow-plugins");
    fs::create_directories(dir);
    for (const auto &e : fs::directory_iterator(env("SHOPD_PLUGIN_DIR")))
        if (e.path().extension() == ".so") fs::copy_file(e.path(), dir / e.path().filename());
    return dir.string();
}

struct Quotes {
    std::vector<std::string> paths;
    std::set<std::string> capped;  ///< request lines the cap changes
    std::vector<std::string> bodies;
};

}  // namespace

class ShadowITest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ShadowITest);
    CPPUNIT_TEST(shadowPromoteRollbackAndCrashingCandidate);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override {
        plugin_dir_ = copy_plugin_dir();
        host_ = std::make_unique<OwnHost>(std::vector<std::string>{
            "--processes", "2", "--workers", "2", "--plugin-dir", plugin_dir_,
            "--pricing.max-discount=" + std::to_string(kCapPercent)});
        nginx_ = std::make_unique<OwnNginx>("", host_->socket());
        admin_ = nginx_->url() + "/api/admin/plugins/";
    }
    void tearDown() override {
        nginx_.reset();
        host_.reset();
        std::error_code ec;
        fs::remove_all(plugin_dir_, ec);
    }

    void shadowPromoteRollbackAndCrashingCandidate() {
        errorsAreProblems();
        cappedCandidateDiffersExactlyWhereTheCapBites();
        crashingCandidateChangesNothingForClients();
        promoteServesTheCandidateAndRollbackRestores();
        shopctlDrivesTheShadow();
    }

private:
    /// Every product's quotes over tiers and quantities, served by whatever serves now.
    Quotes quote_all(Http &http) {
        Quotes q;
        const auto products = http.get(nginx_->url() + "/api/products/?page_size=5").json();
        for (const auto &p : products["results"].GetArray())
            for (const char *tier : {"STANDARD", "SILVER", "GOLD"})
                for (int quantity : {1, 5, 10, 50}) {
                    const std::string path = "/api/pricing/" + std::to_string(p["id"].GetInt64()) +
                                             "/price/?quantity=" + std::to_string(quantity) +
                                             "&user_tier=" + tier;
                    const Response r = http.get(nginx_->url() + path);
                    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
                    q.paths.push_back(path);
                    q.bodies.push_back(r.body);
                    if (cap_changes(r.json())) q.capped.insert("GET " + path);
                }
        return q;
    }

    rapidjson::Document row(Http &http, const std::string &name) {
        const Response r = http.get(admin_, admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
        rapidjson::Document d;
        d.Parse(r.body.c_str());
        for (auto &p : d.GetArray())
            if (name == p["name"].GetString()) {
                rapidjson::Document one;
                one.CopyFrom(p, one.GetAllocator());
                return one;
            }
        CPPUNIT_FAIL("no row for " + name);
        return {};
    }

    /// Waits (bounded) until the shadow compared `n` quotes (+ failed ones); returns the row.
    rapidjson::Document wait_compared(Http &http, std::uint64_t n) {
        for (int i = 0; i < 200; ++i) {
            auto r = row(http, "pricing");
            const auto &s = r["shadow"];
            CPPUNIT_ASSERT(s.IsObject());
            if (s["compared"].GetUint64() + s["failed"].GetUint64() >= n) return r;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        CPPUNIT_FAIL("the shadow did not compare " + std::to_string(n) + " quotes in 10 s");
        return {};
    }

    Response start_shadow(Http &http, const std::string &file) {
        return http.post(admin_ + "pricing/shadow/", "{\"path\":\"" + file + "\"}", admin_token());
    }

    void errorsAreProblems() {
        Http http;
        assert_problem(
            http.post(admin_ + "pricing/shadow/", "{\"path\":\"" PRICING_CAPPED_SO "\"}"), 401,
            "shadow without the admin token");
        assert_problem(start_shadow(http, "relative.so"), 400, "a relative path");
        assert_problem(http.post(admin_ + "pricing/shadow/", "[1]", admin_token()), 400, "no path");
        assert_problem(start_shadow(http, PRICING_BADABI_SO), 422, "a candidate the check refuses");
        assert_problem(http.post(admin_ + "nosuch/shadow/", "{\"path\":\"/x.so\"}", admin_token()),
                       404, "shadow of an unknown plugin");
        assert_problem(http.post(admin_ + "pricing/promote/", "", admin_token()), 409,
                       "promote without a shadow");
        assert_problem(http.del(admin_ + "pricing/shadow/", admin_token()), 404,
                       "stop without a shadow");
        CPPUNIT_ASSERT(row(http, "pricing")["shadow"].IsNull());
    }

    void cappedCandidateDiffersExactlyWhereTheCapBites() {
        Http http;
        const Response started = start_shadow(http, PRICING_CAPPED_SO);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(started.describe(), 201L, started.status);
        CPPUNIT_ASSERT_EQUAL(std::string("1.0.0-capped"),
                             std::string(started.json()["shadow"]["version"].GetString()));
        const Quotes q = quote_all(http);
        CPPUNIT_ASSERT_MESSAGE("the data has quotes the cap changes", !q.capped.empty());
        CPPUNIT_ASSERT_MESSAGE("... and quotes it does not", q.capped.size() < q.paths.size());
        const auto r = wait_compared(http, q.paths.size());
        const auto &s = r["shadow"];
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(q.paths.size()), s["compared"].GetUint64());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(q.capped.size()), s["differing"].GetUint64());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), s["skipped"].GetUint64() + s["failed"].GetUint64());
        CPPUNIT_ASSERT(s["examples"].Size() > 0);
        for (const auto &e : s["examples"].GetArray()) {
            const std::string request = e["request"].GetString();
            CPPUNIT_ASSERT_MESSAGE(request, q.capped.count(request) == 1);
            rapidjson::Document served, candidate;
            served.Parse(e["serving"]["body"].GetString());
            candidate.Parse(e["candidate"]["body"].GetString());
            CPPUNIT_ASSERT(cents(candidate["unit_price"].GetString()) >
                           cents(served["unit_price"].GetString()));
        }
        CPPUNIT_ASSERT(s["p50_ms"].IsNumber() && s["serving_p99_ms"].IsNumber());
        const std::string metrics = http.get(nginx_->url() + "/metrics").body;
        CPPUNIT_ASSERT(metrics.find("shopd_shadow_differing_total{plugin=\"pricing\",candidate="
                                    "\"1.0.0-capped\"} " +
                                    std::to_string(q.capped.size())) != std::string::npos);
    }

    void crashingCandidateChangesNothingForClients() {
        Http http;
        const auto before = row(http, "pricing");
        const Quotes plain = quote_all(http);  // the capped shadow still runs: its answers
        CPPUNIT_ASSERT_EQUAL(201L, start_shadow(http, PRICING_CRASHY_SO).status);
        std::vector<long> statuses;
        for (int round = 0; round < 3; ++round) {
            for (int quantity : {7, 1, 7, 10}) {
                const std::string path =
                    plain.paths.front().substr(0, plain.paths.front().find('?')) +
                    "?quantity=" + std::to_string(quantity);
                statuses.push_back(http.get(nginx_->url() + path).status);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
        }
        const Quotes again = quote_all(http);
        CPPUNIT_ASSERT(again.bodies == plain.bodies);  // byte for byte what clients got before
        for (long status : statuses) CPPUNIT_ASSERT_EQUAL(200L, status);
        std::uint64_t crashes = 0;
        for (int i = 0; i < 100 && crashes == 0; ++i) {
            crashes = row(http, "pricing")["shadow"]["crashes"].GetUint64();
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        CPPUNIT_ASSERT_MESSAGE("the crashy candidate crashed in shadow", crashes > 0);
        // No worker died: the same worker pids serve.
        const auto after = row(http, "pricing");
        std::set<int> pids_before, pids_after;
        for (const auto &w : before["workers"].GetArray()) pids_before.insert(w["pid"].GetInt());
        for (const auto &w : after["workers"].GetArray()) pids_after.insert(w["pid"].GetInt());
        CPPUNIT_ASSERT(pids_before == pids_after);
        CPPUNIT_ASSERT(host_->log().find("shadow process") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(204L, http.del(admin_ + "pricing/shadow/", admin_token()).status);
        CPPUNIT_ASSERT(row(http, "pricing")["shadow"].IsNull());
    }

    void promoteServesTheCandidateAndRollbackRestores() {
        Http http;
        const std::string path = "/api/pricing/" + std::to_string(first_product(http)) +
                                 "/price/?quantity=50&user_tier=GOLD";
        const std::string served_before = http.get(nginx_->url() + path).body;
        CPPUNIT_ASSERT_EQUAL(201L, start_shadow(http, PRICING_CAPPED_SO).status);
        const Response promoted = http.post(admin_ + "pricing/promote/", "", admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(promoted.describe(), 200L, promoted.status);
        const auto p = promoted.json();
        CPPUNIT_ASSERT_EQUAL(std::string("1.0.0-capped"), std::string(p["version"].GetString()));
        CPPUNIT_ASSERT_EQUAL(std::string("1.0.0"), std::string(p["previous"].GetString()));
        CPPUNIT_ASSERT(p["shadow"].IsNull());
        for (const auto &w : p["workers"].GetArray())
            CPPUNIT_ASSERT_EQUAL(std::string("serving"), std::string(w["state"].GetString()));
        const auto now = http.get(nginx_->url() + path).json();
        CPPUNIT_ASSERT_EQUAL(std::string("pricing/1.0.0-capped"),
                             std::string(now["engine"].GetString()));
        CPPUNIT_ASSERT_MESSAGE(
            "installed over pricing.so for a restart",
            fs::file_size(plugin_dir_ + "/pricing.so") == fs::file_size(PRICING_CAPPED_SO));
        const Response back = http.post(admin_ + "pricing/rollback/", "", admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(back.describe(), 200L, back.status);
        CPPUNIT_ASSERT_EQUAL(served_before, http.get(nginx_->url() + path).body);
        // Two changes of the serving generation: the promotion and the rollback.
        const std::string metrics = http.get(nginx_->url() + "/metrics").body;
        CPPUNIT_ASSERT_MESSAGE(
            metrics,
            metrics.find("shopd_plugin_swaps_total{plugin=\"pricing\"} 2\n") != std::string::npos);
    }

    void shopctlDrivesTheShadow() {
        const std::string ctl = std::string("SHOPD_URL=") + nginx_->url() + " " SHOPCTL_BIN;
        const auto started = run_command(ctl + " plugins shadow pricing " PRICING_CAPPED_SO);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(started.output, 0, started.exit_code);
        Http http;
        (void)quote_all(http);
        const auto report = run_command(ctl + " plugins shadow-report pricing");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(report.output, 0, report.exit_code);
        CPPUNIT_ASSERT_MESSAGE(report.output, report.output.find("differing") != std::string::npos);
        const auto stopped = run_command(ctl + " plugins shadow-stop pricing");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(stopped.output, 0, stopped.exit_code);
        const auto none = run_command(ctl + " plugins shadow-report pricing");
        CPPUNIT_ASSERT_MESSAGE(none.output, none.exit_code != 0);
        CPPUNIT_ASSERT_EQUAL(
            0, run_command(ctl + " plugins shadow pricing " PRICING_CAPPED_SO).exit_code);
        const auto promoted = run_command(ctl + " plugins promote pricing");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(promoted.output, 0, promoted.exit_code);
        CPPUNIT_ASSERT_MESSAGE(
            promoted.output,
            promoted.output.find("after:  pricing 1.0.0-capped") != std::string::npos);
        const auto back = run_command(ctl + " plugins rollback pricing");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(back.output, 0, back.exit_code);
        CPPUNIT_ASSERT_MESSAGE(back.output,
                               back.output.find("after:  pricing 1.0.0 ") != std::string::npos);
    }

    std::int64_t first_product(Http &http) {
        return http.get(nginx_->url() + "/api/products/?page_size=1")
            .json()["results"][0]["id"]
            .GetInt64();
    }

    std::string plugin_dir_, admin_;
    std::unique_ptr<OwnHost> host_;
    std::unique_ptr<OwnNginx> nginx_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(ShadowITest);
