// Unit tests: host configuration from flags, config file and SHOPD_* environment.
#include "config.hpp"

#include <cppunit/extensions/HelperMacros.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <unistd.h>

using namespace shopd::host;

class ConfigTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ConfigTest);
    CPPUNIT_TEST(defaults);
    CPPUNIT_TEST(flagsOverrideEnvironment);
    CPPUNIT_TEST(configFileAndPluginSections);
    CPPUNIT_TEST(helpListsOptions);
    CPPUNIT_TEST(badValuesAreErrors);
    CPPUNIT_TEST(splitsLists);
    CPPUNIT_TEST_SUITE_END();

public:
    void tearDown() override {
        unsetenv("SHOPD_DATABASE_URL");
        unsetenv("SHOPD_WORKERS");
        unsetenv("SHOPD_URL");
    }

    void defaults() {
        const char *argv[] = {"shopd"};
        const auto r = parse_config(1, argv);
        CPPUNIT_ASSERT(r.config);
        CPPUNIT_ASSERT(r.config->workers >= 8);  // 4 x cores, at least 2 cores assumed
        CPPUNIT_ASSERT_EQUAL(std::int64_t(300), r.config->reservation_ttl);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1 << 20), r.config->max_body_bytes);
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), r.config->plugins.size());
        CPPUNIT_ASSERT_EQUAL(std::string("300"), r.config->values.at("reservation-ttl"));
    }

    void flagsOverrideEnvironment() {
        setenv("SHOPD_DATABASE_URL", "postgresql://env/db", 1);
        setenv("SHOPD_WORKERS", "3", 1);
        setenv("SHOPD_URL", "http://ignored", 1);  // stack.env variables that are no options
        const char *argv[] = {"shopd", "--workers", "5"};
        const auto r = parse_config(3, argv);
        CPPUNIT_ASSERT_MESSAGE(r.message, r.config);
        CPPUNIT_ASSERT_EQUAL(5u, r.config->workers);
        CPPUNIT_ASSERT_EQUAL(std::string("postgresql://env/db"), r.config->database_url);
    }

    void configFileAndPluginSections() {
        char path[] = "/tmp/shopd-config-XXXXXX";
        const int fd = mkstemp(path);
        CPPUNIT_ASSERT(fd >= 0);
        close(fd);
        std::ofstream(path) << "workers = 7\nadmin-token = t0k\n[pricing]\nlabel = fast\n";
        const char *argv[] = {"shopd", "--config", path};
        const auto r = parse_config(3, argv);
        std::remove(path);
        CPPUNIT_ASSERT_MESSAGE(r.message, r.config);
        CPPUNIT_ASSERT_EQUAL(7u, r.config->workers);
        CPPUNIT_ASSERT_EQUAL(std::string("t0k"), r.config->admin_token);
        CPPUNIT_ASSERT_EQUAL(std::string("fast"), r.config->values.at("pricing.label"));
    }

    void helpListsOptions() {
        const char *argv[] = {"shopd", "--help"};
        const auto r = parse_config(2, argv);
        CPPUNIT_ASSERT(!r.config);
        CPPUNIT_ASSERT_EQUAL(0, r.exit_code);
        for (const char *opt : {"--listen", "--workers", "--database-url", "--plugin-dir", "--admin-token",
                                "--lock-timeout-ms", "--reservation-ttl", "--max-body-bytes"})
            CPPUNIT_ASSERT_MESSAGE(opt, r.message.find(opt) != std::string::npos);
    }

    void badValuesAreErrors() {
        const char *argv[] = {"shopd", "--workers", "many"};
        auto r = parse_config(3, argv);
        CPPUNIT_ASSERT(!r.config);
        CPPUNIT_ASSERT_EQUAL(2, r.exit_code);
        const char *argv2[] = {"shopd", "--reservation-ttl", "0"};
        r = parse_config(3, argv2);
        CPPUNIT_ASSERT(!r.config);
        const char *argv3[] = {"shopd", "--no-such-flag"};
        r = parse_config(2, argv3);
        CPPUNIT_ASSERT(!r.config);
    }

    void splitsLists() {
        const auto v = split_list(" catalog, cart ,,pricing");
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), v.size());
        CPPUNIT_ASSERT_EQUAL(std::string("cart"), v[1]);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ConfigTest);
