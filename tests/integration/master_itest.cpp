// Integration tests of the supervising master with a host of our own (tests/support/own_stack):
// SIGTERM drains in-flight requests and the master exits 0; --max-requests recycles worker
// processes without a failed GET. The shared stack is not touched.
#include "http_client.hpp"
#include "own_stack.hpp"
#include "shopd/plugin_def.hpp"

#include <sys/stat.h>
#include <sys/wait.h>

#include <csignal>

#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

using namespace shopd::test;

namespace {

std::size_t count_of(const std::string &text, const std::string &needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

}  // namespace

class MasterITest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MasterITest);
    CPPUNIT_TEST(sigtermFinishesInFlightRequestsAndExitsZero);
    CPPUNIT_TEST(maxRequestsRecyclesWorkersWithoutAFailedGet);
    CPPUNIT_TEST(checkConfigNamesTheBadKey);
    CPPUNIT_TEST(checkConfigComparesSchemaVersions);
    CPPUNIT_TEST_SUITE_END();

public:
    /// Slow requests (the thrower's sleep route) in flight in both worker processes when the
    /// master gets SIGTERM: every one completes with 200, then the master exits 0.
    void sigtermFinishesInFlightRequestsAndExitsZero() {
        OwnHost host({"--processes", "2", "--workers", "2"});
        // Not world-writable (anyone who can connect speaks FastCGI, i.e. forges REMOTE_ADDR).
        struct stat st {};
        CPPUNIT_ASSERT_EQUAL(0, ::stat(host.socket().c_str(), &st));
        CPPUNIT_ASSERT_EQUAL(0660u, static_cast<unsigned>(st.st_mode & 0777));
        OwnNginx nginx("", host.socket());
        const std::string url = nginx.url() + "/api/test/sleep/?ms=1500";
        constexpr int kSlow = 4;
        std::vector<long> statuses(kSlow, 0);
        std::vector<std::thread> clients;
        for (int i = 0; i < kSlow; ++i)
            clients.emplace_back([&, i] {
                Http http;
                statuses[i] = http.get(url).status;
            });
        std::this_thread::sleep_for(std::chrono::milliseconds(500));  // all four in flight
        const auto sent = std::chrono::steady_clock::now();
        const int status = host.signal_and_wait(SIGTERM, 20);
        const auto took = std::chrono::steady_clock::now() - sent;
        for (auto &t : clients) t.join();
        for (int i = 0; i < kSlow; ++i)
            CPPUNIT_ASSERT_EQUAL_MESSAGE("slow request " + std::to_string(i) + " cut off", 200L,
                                         statuses[i]);
        CPPUNIT_ASSERT_MESSAGE("master did not exit within 20 s: " + host.log(), status != -1);
        CPPUNIT_ASSERT_MESSAGE(host.log(), WIFEXITED(status) && WEXITSTATUS(status) == 0);
        // It waited for the requests (about 1 s left of each), and not much longer.
        CPPUNIT_ASSERT(took >= std::chrono::milliseconds(700));
        CPPUNIT_ASSERT(took < std::chrono::seconds(12));
        CPPUNIT_ASSERT(host.log().find("all workers stopped") != std::string::npos);
    }

    /// One worker process recycled every 40 requests under 4 clients: 0 failed GETs, and the
    /// master started a new worker each time.
    void maxRequestsRecyclesWorkersWithoutAFailedGet() {
        OwnHost host({"--processes", "1", "--workers", "2", "--max-requests", "40"});
        OwnNginx nginx("", host.socket());
        std::atomic<int> sent{0}, failed{0};
        std::vector<std::thread> clients;
        for (int c = 0; c < 4; ++c)
            clients.emplace_back([&] {
                Http http;
                for (int i = 0; i < 60; ++i) {
                    const auto r = http.get(nginx.url() + "/api/products/?page_size=1");
                    ++sent;
                    if (r.status != 200) ++failed;
                }
            });
        for (auto &t : clients) t.join();
        const std::string log = host.log();
        std::printf("\n  max-requests 40: %d GETs, %d failed, %zu recycles\n", sent.load(),
                    failed.load(), count_of(log, "recycling"));
        CPPUNIT_ASSERT_EQUAL(240, sent.load());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(log, 0, failed.load());
        CPPUNIT_ASSERT_MESSAGE(log, count_of(log, "recycling") >= 4);
        CPPUNIT_ASSERT_MESSAGE(log, count_of(log, "worker 0 started") >= 5);
    }

    /// `shopd --check-config` (the unit's ExecStartPre): 0 for the stack's configuration, 1
    /// naming a plugin option its plugin refuses, 2 naming an unknown flag; it loads nothing
    /// into itself and serves nothing.
    void checkConfigNamesTheBadKey() {
        const std::string base = std::string(SHOPD_HOST_BINARY) + " --check-config --plugin-dir " +
                                 env("SHOPD_VAR") + "/plugins --database-url '" +
                                 env("SHOPD_DATABASE_URL") + "'";
        std::string out;
        CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 0, run(base, out));
        CPPUNIT_ASSERT_MESSAGE(out, out.find("configuration ok") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 1, run(base + " --checkout.reservation-ttl=soon", out));
        CPPUNIT_ASSERT_MESSAGE(out, out.find("checkout.reservation-ttl") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 1, run(base + " --plugins catalog,nosuch", out));
        CPPUNIT_ASSERT_MESSAGE(out, out.find("nosuch.so") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 2, run(base + " --lock-timeout=5", out));
        CPPUNIT_ASSERT_MESSAGE(out, out.find("lock-timeout") != std::string::npos);
    }

    /// Plugins declare the schema versions they work with; a plugin that needs a schema the
    /// database has not reached is refused (here: 999), the stack's own ones are compared.
    void checkConfigComparesSchemaVersions() {
        // The stack's database is migrated to the newest sql/NNN, which plugins built here need.
        const std::string kSchema = std::to_string(shopd::kSchemaVersion);
        const std::string base = std::string(SHOPD_HOST_BINARY) +
                                 " --check-config --database-url '" + env("SHOPD_DATABASE_URL") +
                                 "'";
        std::string out;
        CPPUNIT_ASSERT_EQUAL_MESSAGE(
            out, 0, run(base + " --plugin-dir " + env("SHOPD_VAR") + "/plugins", out));
        CPPUNIT_ASSERT_MESSAGE(out, out.find("needs schema " + kSchema + ".., the database is at " +
                                             kSchema) != std::string::npos);
        char dir[] = "/tmp/shopd-schema-test.XXXXXX";
        CPPUNIT_ASSERT(::mkdtemp(dir) != nullptr);
        const std::string plugin = std::string(dir) + "/thrower.so";
        CPPUNIT_ASSERT_EQUAL(
            0, std::system(("cp " + std::string(THROWER_FUTURESCHEMA_SO) + " " + plugin).c_str()));
        const int rc = run(base + " --plugin-dir " + dir + " --plugins thrower", out);
        std::system(("rm -rf " + std::string(dir)).c_str());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(out, 1, rc);
        CPPUNIT_ASSERT_MESSAGE(out, out.find("needs schema 999.., the database is at " + kSchema) !=
                                        std::string::npos);
    }

    /// Runs `command` through the shell; its exit code, with stdout and stderr in `out`.
    static int run(const std::string &command, std::string &out) {
        const CommandRun r = run_command(command);
        out = r.output;
        return r.exit_code;
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MasterITest);
