// Hot-swap integration test: while client threads keep asking for the seed example's price
// through nginx, the pricing plugin of the running host is replaced 10 times (v2 / v1,
// atomic rename in $SHOPD_PLUGIN_DIR, then SIGHUP to $SHOPD_HOST_PID or POST
// /api/admin/plugins/reload/), then a build with a wrong ABI version is installed and must be
// refused. No request may fail, and every answer must come from v1 or v2 with the same price.
// The plugin the host had before is put back at the end, so later tests see it.
#include "http_client.hpp"
#include "plugin_swap.hpp"

#include <cppunit/extensions/HelperMacros.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace shopd::test;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Builds of the plugin (see plugins/pricing/CMakeLists.txt); all of them are a "pricing" plugin.
const std::string kV1 = std::string(PRICING_SO_DIR) + "/pricing.so";
const std::string kV2 = std::string(PRICING_SO_DIR) + "/pricing_v2.so";
const std::string kBadAbi = std::string(PRICING_SO_DIR) + "/pricing_badabi.so";
const std::string kEngineV1 = "pricing/1.0.0";
const std::string kEngineV2 = "pricing/2.0.0";

constexpr int kClients = 5;
constexpr int kSwaps = 10;
/// How long each version serves after it is visible, so clients see every one many times.
constexpr auto kDwell = std::chrono::milliseconds(300);
constexpr auto kSwapTimeout = std::chrono::seconds(10);

std::string str(const rapidjson::Value &v) {
    return std::string(v.GetString(), v.GetStringLength());
}

/// What the client threads saw. Threads never assert (cppunit is not thread-safe); the main
/// thread checks these afterwards.
struct Tally {
    std::atomic<long> requests{0}, v1{0}, v2{0}, non_2xx{0}, transport_errors{0}, other_engine{0},
        wrong_price{0};
    std::mutex mu;
    std::vector<std::string> failures;  ///< the first few, for the assertion message

    void fail(std::atomic<long> &counter, const std::string &what) {
        ++counter;
        std::lock_guard<std::mutex> lock(mu);
        if (failures.size() < 10) failures.push_back(what);
    }
};

void classify(const Response &r, Tally &t) {
    ++t.requests;
    if (r.status < 200 || r.status > 299) return t.fail(t.non_2xx, r.describe());
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("engine") || !d["engine"].IsString() ||
        !d.HasMember("unit_price") || !d["unit_price"].IsString())
        return t.fail(t.non_2xx, "malformed 2xx: " + r.describe());
    const std::string engine = str(d["engine"]);
    if (engine == kEngineV1)
        ++t.v1;
    else if (engine == kEngineV2)
        ++t.v2;
    else
        t.fail(t.other_engine, "engine " + engine);
    if (str(d["unit_price"]) != "420.75")
        t.fail(t.wrong_price, "unit_price " + str(d["unit_price"]));
}

void client(const std::string &path, const std::atomic<bool> &stop, Tally &t) {
    Http http;
    while (!stop) {
        try {
            classify(http.get(path), t);
        } catch (
            const std::exception &e) {  // Http throws on transport errors (reset, refused, timeout)
            ++t.requests;
            t.fail(t.transport_errors, e.what());
        }
    }
}

/// Polls the plugin list until pricing is at `version`; fails the test after kSwapTimeout.
void wait_for_version(Http &admin, const std::string &version) {
    const auto deadline = Clock::now() + kSwapTimeout;
    std::string seen;
    while ((seen = plugin_version(admin, "pricing")) != version) {
        if (Clock::now() > deadline)
            CPPUNIT_FAIL("pricing still at \"" + seen + "\" " +
                         std::to_string(kSwapTimeout.count()) + " s after swapping in " + version);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

void send_sighup() {
    const int pid = std::stoi(env("SHOPD_HOST_PID"));
    if (kill(pid, SIGHUP) != 0)
        throw std::runtime_error("kill(SIGHUP, " + std::to_string(pid) +
                                 "): " + std::strerror(errno));
}

/// Keeps a copy of the installed pricing.so and puts it back (and reloads) on destruction, so
/// even a failed run leaves the host with the plugin it had.
class RestoreOriginal {
public:
    RestoreOriginal()
        : dir_(env("SHOPD_PLUGIN_DIR")),
          backup_(dir_ / (".pricing.so.orig-" + std::to_string(getpid()))) {
        fs::copy_file(dir_ / "pricing.so", backup_, fs::copy_options::overwrite_existing);
    }
    ~RestoreOriginal() {
        if (restored_) return;
        try {
            restore();
            Http admin;
            admin.post("/api/admin/plugins/reload/", "", admin_token());
        } catch (...) {}
    }
    /// Renames the saved copy over pricing.so (the caller reloads).
    void restore() {
        if (std::rename(backup_.c_str(), (dir_ / "pricing.so").c_str()) != 0)
            throw std::runtime_error("restoring pricing.so: " + std::string(std::strerror(errno)));
        restored_ = true;
    }

private:
    fs::path dir_, backup_;
    bool restored_ = false;
};

/// The seed example's product (base 500.00, variant +50.00), made through the catalog API.
std::string seed_price_path(Http &admin) {
    auto r =
        admin.post("/api/categories/", "{\"name\":\"" + unique("hotswap") + "\"}", admin_token());
    CPPUNIT_ASSERT_EQUAL_MESSAGE("category: " + r.describe(), 201L, r.status);
    const auto category = r.json()["id"].GetInt64();
    r = admin.post("/api/products/",
                   "{\"name\":\"" + unique("hotswap") +
                       "\",\"category_id\":" + std::to_string(category) +
                       ",\"base_price\":\"500.00\",\"variants\":[{\"sku\":\"" + unique("HS") +
                       "\",\"name\":\"v\",\"price_delta\":\"50.00\",\"stock\":1}]}",
                   admin_token());
    CPPUNIT_ASSERT_EQUAL_MESSAGE("product: " + r.describe(), 201L, r.status);
    const auto d = r.json();
    return "/api/pricing/" + std::to_string(d["id"].GetInt64()) +
           "/price/?quantity=10&user_tier=GOLD&variant_id=" +
           std::to_string(d["variants"][0]["id"].GetInt64());
}

}  // namespace

class PricingHotSwapITest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PricingHotSwapITest);
    CPPUNIT_TEST(swapsUnderLoadWithoutFailedRequests);
    CPPUNIT_TEST_SUITE_END();

public:
    void swapsUnderLoadWithoutFailedRequests() {
        Http admin;
        const std::string path = seed_price_path(admin);
        CPPUNIT_ASSERT_EQUAL_MESSAGE("the stack should start on pricing v1", std::string("1.0.0"),
                                     plugin_version(admin, "pricing"));
        RestoreOriginal original;

        Tally tally;
        std::atomic<bool> stop{false};
        std::vector<std::thread> clients;
        for (int i = 0; i < kClients; ++i)
            clients.emplace_back(client, path, std::cref(stop), std::ref(tally));
        // Whatever happens below, the clients must stop before `tally` goes away.
        Joiner joiner{stop, clients};
        std::this_thread::sleep_for(kDwell);

        const long before = tally.requests, v1_before = tally.v1, v2_before = tally.v2;
        const auto swaps_start = Clock::now();
        std::vector<long> visible_ms;
        for (int i = 0; i < kSwaps; ++i) {
            const bool to_v2 = i % 2 == 0;
            const auto start = Clock::now();
            install_plugin(to_v2 ? kV2 : kV1, "pricing");
            // Both triggers, for both versions: S P P S S P P S S P.
            if ((i + i / 2) % 2 == 0) {
                send_sighup();
            } else {
                CPPUNIT_ASSERT_MESSAGE("reload did not swap pricing",
                                       lists_name(reload_plugins(admin)["reloaded"], "pricing"));
            }
            wait_for_version(admin, to_v2 ? "2.0.0" : "1.0.0");
            visible_ms.push_back(
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start)
                    .count());
            std::this_thread::sleep_for(kDwell);
        }
        const long during = tally.requests - before;
        const long v1_during = tally.v1 - v1_before, v2_during = tally.v2 - v2_before;
        const auto swaps_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - swaps_start)
                .count();

        // A build with the wrong ABI version is refused, by either trigger, and v1 keeps serving.
        install_plugin(kBadAbi, "pricing");
        const auto outcome = reload_plugins(admin);
        CPPUNIT_ASSERT_MESSAGE(
            "bad-ABI plugin not refused: " + refusal_of(outcome, "pricing"),
            refusal_of(outcome, "pricing").find("ABI version 999") != std::string::npos);
        CPPUNIT_ASSERT(!lists_name(outcome["reloaded"], "pricing"));
        CPPUNIT_ASSERT_EQUAL(std::string("1.0.0"), plugin_version(admin, "pricing"));
        send_sighup();
        std::this_thread::sleep_for(kDwell);
        CPPUNIT_ASSERT_EQUAL(std::string("1.0.0"), plugin_version(admin, "pricing"));
        const auto still = admin.get(path);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(still.describe(), 200L, still.status);
        CPPUNIT_ASSERT_EQUAL(kEngineV1, str(still.json()["engine"]));

        stop = true;
        for (auto &t : clients) t.join();

        // Put the original back; the host reloads it (a new file, so a new generation).
        original.restore();
        CPPUNIT_ASSERT_MESSAGE("original not reloaded",
                               lists_name(reload_plugins(admin)["reloaded"], "pricing"));
        wait_for_version(admin, "1.0.0");

        std::string swap_times;
        for (auto ms : visible_ms)
            swap_times += (swap_times.empty() ? "" : " ") + std::to_string(ms);
        std::cout << "\nhot swap: " << kSwaps << " swaps in " << swaps_ms << " ms with " << kClients
                  << " clients; requests served during the swaps: " << during << " (v1 "
                  << v1_during << ", v2 " << v2_during << "); whole test: " << tally.requests
                  << " requests (v1 " << tally.v1 << ", v2 " << tally.v2 << "), non-2xx "
                  << tally.non_2xx << ", transport errors " << tally.transport_errors
                  << ", other engine " << tally.other_engine << ", wrong price "
                  << tally.wrong_price << "; ms from rename to new version listed: " << swap_times
                  << std::endl;

        std::string failures;
        for (const auto &f : tally.failures) failures += "\n  " + f;
        CPPUNIT_ASSERT_EQUAL_MESSAGE("non-2xx responses:" + failures, 0L, tally.non_2xx.load());
        CPPUNIT_ASSERT_EQUAL_MESSAGE("transport errors:" + failures, 0L,
                                     tally.transport_errors.load());
        CPPUNIT_ASSERT_EQUAL_MESSAGE("answers from another engine:" + failures, 0L,
                                     tally.other_engine.load());
        CPPUNIT_ASSERT_EQUAL_MESSAGE("wrong unit prices:" + failures, 0L, tally.wrong_price.load());
        // Each version served a fair share while it was current (5 dwell periods each).
        CPPUNIT_ASSERT_MESSAGE("too few requests during the swaps", during >= 200);
        CPPUNIT_ASSERT_MESSAGE("v1 seen too rarely", v1_during >= during / 5);
        CPPUNIT_ASSERT_MESSAGE("v2 seen too rarely", v2_during >= during / 5);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PricingHotSwapITest);
