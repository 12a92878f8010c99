// Unit tests: Prometheus rendering of request counters, histogram and plugin info.
#include "metrics.hpp"

#include <cppunit/extensions/HelperMacros.h>

using namespace shopd::host;

class MetricsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MetricsTest);
    CPPUNIT_TEST(formatsSecondsExactly);
    CPPUNIT_TEST(countsByRouteAndStatus);
    CPPUNIT_TEST(histogramIsCumulative);
    CPPUNIT_TEST_SUITE_END();

    static bool contains(const std::string &text, const std::string &needle) {
        return text.find(needle) != std::string::npos;
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
};

CPPUNIT_TEST_SUITE_REGISTRATION(MetricsTest);
