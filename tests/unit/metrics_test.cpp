// Unit tests: Prometheus rendering of request counters, histogram and plugin info; totals over
// forked processes sharing one Metrics; a full key table.
#include "metrics.hpp"

#include <cppunit/extensions/HelperMacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>
#include <vector>

using namespace shopd::host;

class MetricsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MetricsTest);
    CPPUNIT_TEST(formatsSecondsExactly);
    CPPUNIT_TEST(countsByRouteAndStatus);
    CPPUNIT_TEST(histogramIsCumulative);
    CPPUNIT_TEST(histogramsByRouteAndStatus);
    CPPUNIT_TEST(countsPluginSwaps);
    CPPUNIT_TEST(forkedProcessesShareTotals);
    CPPUNIT_TEST(fullTableOverflowsIntoOther);
    CPPUNIT_TEST(longKeysAreTruncated);
    CPPUNIT_TEST_SUITE_END();

    static bool contains(const std::string &text, const std::string &needle) {
        return text.find(needle) != std::string::npos;
    }

    /// Lines of `text` starting with `prefix`.
    static std::vector<std::string> lines_with(const std::string &text, const std::string &prefix) {
        std::vector<std::string> out;
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);)
            if (line.compare(0, prefix.size(), prefix) == 0) out.push_back(line);
        return out;
    }

    /// The value at the end of a sample line.
    static unsigned long long value_of(const std::string &line) {
        return std::stoull(line.substr(line.rfind(' ') + 1));
    }

public:
    void formatsSecondsExactly() {
        CPPUNIT_ASSERT_EQUAL(std::string("0.0015"), micros_as_seconds(1500));
        CPPUNIT_ASSERT_EQUAL(std::string("1.0"), micros_as_seconds(1000000));
        CPPUNIT_ASSERT_EQUAL(std::string("0.000001"), micros_as_seconds(1));
    }

    void countsByRouteAndStatus() {
        Metrics m;
        m.observe("GET /api/products/", 200, 100);
        m.observe("GET /api/products/", 200, 100);
        m.observe("GET /api/products/", 404, 100);
        m.count_db_error("catalog", "55P03");
        const auto text = m.render({{"pricing", "2.0.0", "1"}});
        CPPUNIT_ASSERT(contains(
            text, "shopd_requests_total{route=\"GET /api/products/\",status=\"200\"} 2\n"));
        CPPUNIT_ASSERT(contains(
            text, "shopd_requests_total{route=\"GET /api/products/\",status=\"404\"} 1\n"));
        CPPUNIT_ASSERT(
            contains(text, "shopd_plugin_info{name=\"pricing\",version=\"2.0.0\",abi=\"1\"} 1\n"));
        CPPUNIT_ASSERT(
            contains(text, "shopd_db_errors_total{plugin=\"catalog\",sqlstate=\"55P03\"} 1\n"));
    }

    void histogramIsCumulative() {
        Metrics m;
        m.observe("r", 200, 400);      // <= 0.0005
        m.observe("r", 200, 3000);     // <= 0.005
        m.observe("r", 200, 9000000);  // only +Inf
        const auto text = m.render({});
        CPPUNIT_ASSERT(contains(text, "shopd_request_duration_seconds_bucket{le=\"0.0005\"} 1\n"));
        CPPUNIT_ASSERT(contains(text, "shopd_request_duration_seconds_bucket{le=\"0.005\"} 2\n"));
        CPPUNIT_ASSERT(contains(text, "shopd_request_duration_seconds_bucket{le=\"5.0\"} 2\n"));
        CPPUNIT_ASSERT(contains(text, "shopd_request_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
        CPPUNIT_ASSERT(contains(text, "shopd_request_duration_seconds_count 3\n"));
        CPPUNIT_ASSERT(contains(text, "shopd_request_duration_seconds_sum 9.0034\n"));
    }

    // shopd_route_duration_seconds: one cumulative histogram per (route pattern, status).
    void histogramsByRouteAndStatus() {
        Metrics m;
        m.observe("GET /api/products/{id}/", 200, 400);      // <= 0.0005
        m.observe("GET /api/products/{id}/", 200, 30000);    // <= 0.05
        m.observe("GET /api/products/{id}/", 200, 9000000);  // only +Inf
        m.observe("GET /api/products/{id}/", 404, 2000);     // <= 0.0025
        m.observe("POST /api/cart/checkout/", 201, 7000);    // <= 0.01
        const auto text = m.render({});
        const std::string ok =
            "shopd_route_duration_seconds_bucket{route=\"GET /api/products/{id}/\","
            "status=\"200\",le=\"";
        CPPUNIT_ASSERT(contains(text, ok + "0.0005\"} 1\n"));
        CPPUNIT_ASSERT(contains(text, ok + "0.025\"} 1\n"));
        CPPUNIT_ASSERT(contains(text, ok + "0.05\"} 2\n"));
        CPPUNIT_ASSERT(contains(text, ok + "5.0\"} 2\n"));
        CPPUNIT_ASSERT(contains(text, ok + "+Inf\"} 3\n"));
        CPPUNIT_ASSERT(contains(text,
                                "shopd_route_duration_seconds_count{route=\"GET "
                                "/api/products/{id}/\",status=\"200\"} 3\n"));
        CPPUNIT_ASSERT(contains(text,
                                "shopd_route_duration_seconds_sum{route=\"GET "
                                "/api/products/{id}/\",status=\"200\"} 9.0304\n"));
        const std::string nf =
            "shopd_route_duration_seconds_bucket{route=\"GET /api/products/{id}/\","
            "status=\"404\",le=\"";
        CPPUNIT_ASSERT(contains(text, nf + "0.001\"} 0\n"));
        CPPUNIT_ASSERT(contains(text, nf + "0.0025\"} 1\n"));
        CPPUNIT_ASSERT(contains(text,
                                "shopd_route_duration_seconds_count{route=\"POST "
                                "/api/cart/checkout/\",status=\"201\"} 1\n"));
        // 3 series x (12 buckets + +Inf); the overall histogram keeps counting everything.
        CPPUNIT_ASSERT_EQUAL(std::size_t(39),
                             lines_with(text, "shopd_route_duration_seconds_bucket{").size());
        CPPUNIT_ASSERT(contains(text, "shopd_request_duration_seconds_count 5\n"));
    }

    void countsPluginSwaps() {
        Metrics m;
        auto text = m.render({});
        CPPUNIT_ASSERT(contains(text, "# TYPE shopd_plugin_swaps_total counter\n"));
        m.count_plugin_swap("pricing");
        m.count_plugin_swap("pricing");
        m.count_plugin_swap("catalog");
        text = m.render({});
        CPPUNIT_ASSERT(contains(text, "shopd_plugin_swaps_total{plugin=\"pricing\"} 2\n"));
        CPPUNIT_ASSERT(contains(text, "shopd_plugin_swaps_total{plugin=\"catalog\"} 1\n"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), lines_with(text, "shopd_plugin_swaps_total{").size());
    }

    // The master creates Metrics before forking; every worker counts into the same totals.
    void forkedProcessesShareTotals() {
        Metrics m;
        m.observe("warm-up", 200, 1);  // a key inserted before fork is found by the children
        std::vector<pid_t> children;
        for (int c = 0; c < 4; ++c) {
            const pid_t pid = fork();
            CPPUNIT_ASSERT(pid >= 0);
            if (pid == 0) {
                for (int i = 0; i < 1000; ++i) {
                    m.observe("GET /api/products/", 200, 300);
                    m.observe("POST /api/carts/{id}/items/", 201, 3000);
                    m.count_db_error("catalog", "40001");
                }
                _exit(0);  // no destructors, no cppunit teardown in the child
            }
            children.push_back(pid);
        }
        for (pid_t pid : children) {
            int status = 0;
            CPPUNIT_ASSERT_EQUAL(pid, waitpid(pid, &status, 0));
            CPPUNIT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        const auto text = m.render({});
        CPPUNIT_ASSERT(contains(
            text, "shopd_requests_total{route=\"GET /api/products/\",status=\"200\"} 4000\n"));
        CPPUNIT_ASSERT(contains(
            text,
            "shopd_requests_total{route=\"POST /api/carts/{id}/items/\",status=\"201\"} 4000\n"));
        CPPUNIT_ASSERT(
            contains(text, "shopd_requests_total{route=\"warm-up\",status=\"200\"} 1\n"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), lines_with(text, "shopd_requests_total{").size());
        CPPUNIT_ASSERT(contains(text, "shopd_request_duration_seconds_count 8001\n"));
        CPPUNIT_ASSERT(contains(text, "shopd_request_duration_seconds_bucket{le=\"+Inf\"} 8001\n"));
        CPPUNIT_ASSERT(
            contains(text, "shopd_request_duration_seconds_bucket{le=\"0.0005\"} 4001\n"));
        CPPUNIT_ASSERT(
            contains(text, "shopd_request_duration_seconds_bucket{le=\"0.005\"} 8001\n"));
        CPPUNIT_ASSERT(contains(text,
                                "shopd_route_duration_seconds_bucket{route=\"POST "
                                "/api/carts/{id}/items/\",status=\"201\",le=\"0.005\"} 4000\n"));
        // 4000 x 300us + 4000 x 3000us + 1us
        CPPUNIT_ASSERT(contains(text, "shopd_request_duration_seconds_sum 13.200001\n"));
        CPPUNIT_ASSERT(
            contains(text, "shopd_db_errors_total{plugin=\"catalog\",sqlstate=\"40001\"} 4000\n"));
    }

    // More distinct keys than the table holds: the rest counts under "other", nothing is lost,
    // the output stays bounded and sorted.
    void fullTableOverflowsIntoOther() {
        Metrics m;
        const std::size_t extra = 300;
        const std::size_t keys = Metrics::kTableSlots + extra;
        for (std::size_t i = 0; i < keys; ++i) {
            m.observe("GET /r" + std::to_string(i) + "/", 200, 100);
            m.count_db_error("p" + std::to_string(i), "XX000");
        }
        m.observe("GET /r0/", 200, 100);          // an existing key still counts in place
        m.observe("GET /never-seen/", 503, 100);  // a new key with a full table: overflow
        const auto text = m.render({});
        const auto requests = lines_with(text, "shopd_requests_total{");
        CPPUNIT_ASSERT_EQUAL(Metrics::kTableSlots + 2, requests.size());  // + other 200, other 503
        unsigned long long total = 0;
        for (const auto &line : requests) total += value_of(line);
        CPPUNIT_ASSERT_EQUAL(static_cast<unsigned long long>(keys + 2), total);
        CPPUNIT_ASSERT(
            contains(text, "shopd_requests_total{route=\"GET /r0/\",status=\"200\"} 2\n"));
        CPPUNIT_ASSERT(contains(text, "shopd_requests_total{route=\"other\",status=\"200\"} " +
                                          std::to_string(extra) + "\n"));
        CPPUNIT_ASSERT(contains(text, "shopd_requests_total{route=\"other\",status=\"503\"} 1\n"));
        CPPUNIT_ASSERT(std::is_sorted(requests.begin(), requests.end() - 2));
        CPPUNIT_ASSERT(contains(
            text, "shopd_request_duration_seconds_count " + std::to_string(keys + 2) + "\n"));
        const auto db = lines_with(text, "shopd_db_errors_total{");
        CPPUNIT_ASSERT_EQUAL(Metrics::kTableSlots + 1, db.size());
        CPPUNIT_ASSERT(
            contains(text, "shopd_db_errors_total{plugin=\"other\",sqlstate=\"other\"} " +
                               std::to_string(extra) + "\n"));
        // Bounded: per request key a counter line and a histogram (15 lines), per db error key one.
        CPPUNIT_ASSERT(text.size() < 200 * (17 * Metrics::kTableSlots + 40));
    }

    // A key longer than a slot holds is cut at a UTF-8 boundary; the same long key counts once.
    void longKeysAreTruncated() {
        Metrics m;
        const std::string route =
            "GET /" + std::string(Metrics::kKeyBytes - 6, 'a') + "\xc3\xa9xyz";
        m.observe(route, 200, 100);
        m.observe(route, 200, 100);
        const auto text = m.render({});
        const std::string kept = route.substr(0, Metrics::kKeyBytes - 1);  // no half of "é"
        CPPUNIT_ASSERT(
            contains(text, "shopd_requests_total{route=\"" + kept + "\",status=\"200\"} 2\n"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MetricsTest);
