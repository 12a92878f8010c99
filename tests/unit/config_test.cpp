// Unit tests: host configuration from flags, config file and SHOPD_* environment.
#include "config.hpp"

#include <cppunit/extensions/HelperMacros.h>

#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <fstream>

using namespace shopd::host;

class ConfigTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ConfigTest);
    CPPUNIT_TEST(defaults);
    CPPUNIT_TEST(pluginOptionsFromFlagsAndTheOldAlias);
    CPPUNIT_TEST(flagsOverrideEnvironment);
    CPPUNIT_TEST(configFileAndPluginSections);
    CPPUNIT_TEST(helpListsOptions);
    CPPUNIT_TEST(badValuesAreErrors);
    CPPUNIT_TEST(splitsLists);
    CPPUNIT_TEST_SUITE_END();

public:
    // The parser reads SHOPD_<OPTION> variables, and scripts/test exports some for its stack
    // (SHOPD_PLUGINS, SHOPD_WORKERS ...): each test starts from an environment without them.
    void setUp() override {
        for (const char *name :
             {"SHOPD_PLUGINS", "SHOPD_WORKERS", "SHOPD_DATABASE_URL", "SHOPD_ADMIN_TOKEN",
              "SHOPD_LISTEN", "SHOPD_PLUGIN_DIR", "SHOPD_RESERVATION_TTL", "SHOPD_CORS_ORIGINS"})
            unsetenv(name);
    }

    void tearDown() override {
        unsetenv("SHOPD_DATABASE_URL");
        unsetenv("SHOPD_WORKERS");
        unsetenv("SHOPD_URL");
    }

    void defaults() {
        const char *argv[] = {"shopd"};
        const auto r = parse_config(1, argv);
        CPPUNIT_ASSERT(r.config);
        // One process per core; about 4 x cores threads (database connections) in total.
        CPPUNIT_ASSERT(r.config->processes >= 1);
        CPPUNIT_ASSERT(r.config->processes * r.config->workers >= 8);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1 << 20), r.config->max_body_bytes);
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), r.config->plugins.size());
        // Plugin options have no host default: the plugin's own applies when unset.
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), r.config->values.count("checkout.reservation-ttl"));
    }

    void pluginOptionsFromFlagsAndTheOldAlias() {
        const char *argv[] = {"shopd", "--checkout.reservation-ttl=90",
                              "--pricing.max-discount=40"};
        auto r = parse_config(3, argv);
        CPPUNIT_ASSERT_MESSAGE(r.message, r.config);
        CPPUNIT_ASSERT_EQUAL(std::string("90"), r.config->values.at("checkout.reservation-ttl"));
        CPPUNIT_ASSERT_EQUAL(std::string("40"), r.config->values.at("pricing.max-discount"));
        const char *argv2[] = {"shopd", "--reservation-ttl", "120"};
        r = parse_config(3, argv2);
        CPPUNIT_ASSERT_MESSAGE(r.message, r.config);
        CPPUNIT_ASSERT_EQUAL(std::string("120"), r.config->values.at("checkout.reservation-ttl"));
        // The new spelling wins over the alias.
        const char *argv3[] = {"shopd", "--reservation-ttl", "120",
                               "--checkout.reservation-ttl=30"};
        r = parse_config(4, argv3);
        CPPUNIT_ASSERT_EQUAL(std::string("30"), r.config->values.at("checkout.reservation-ttl"));
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
        std::ofstream(path) << "workers = 7\nadmin-token = t0k\n[checkout]\nreservation-ttl = 60\n";
        const char *argv[] = {"shopd", "--config", path};
        const auto r = parse_config(3, argv);
        std::remove(path);
        CPPUNIT_ASSERT_MESSAGE(r.message, r.config);
        CPPUNIT_ASSERT_EQUAL(7u, r.config->workers);
        CPPUNIT_ASSERT_EQUAL(std::string("t0k"), r.config->admin_tokens.at(0));
        CPPUNIT_ASSERT_EQUAL(std::string("60"), r.config->values.at("checkout.reservation-ttl"));
    }

    void helpListsOptions() {
        const char *argv[] = {"shopd", "--help"};
        const auto r = parse_config(2, argv);
        CPPUNIT_ASSERT(!r.config);
        CPPUNIT_ASSERT_EQUAL(0, r.exit_code);
        for (const char *opt :
             {"--listen", "--workers", "--database-url", "--plugin-dir", "--admin-token",
              "--lock-timeout-ms", "--reservation-ttl", "--max-body-bytes"})
            CPPUNIT_ASSERT_MESSAGE(opt, r.message.find(opt) != std::string::npos);
    }

    void badValuesAreErrors() {
        const char *argv[] = {"shopd", "--workers", "many"};
        auto r = parse_config(3, argv);
        CPPUNIT_ASSERT(!r.config);
        CPPUNIT_ASSERT_EQUAL(2, r.exit_code);
        const char *argv2[] = {"shopd", "--max-body-bytes", "0"};
        r = parse_config(3, argv2);
        CPPUNIT_ASSERT(!r.config);
        const char *argv3[] = {"shopd", "--no-such-flag"};
        r = parse_config(2, argv3);
        CPPUNIT_ASSERT(!r.config);
        // No abbreviations: a typo must not quietly set a neighbouring option.
        const char *argv4[] = {"shopd", "--lock-timeout=5"};
        r = parse_config(2, argv4);
        CPPUNIT_ASSERT(!r.config);
        CPPUNIT_ASSERT(r.message.find("lock-timeout") != std::string::npos);
    }

    void splitsLists() {
        const auto v = split_list(" catalog, cart ,,pricing");
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), v.size());
        CPPUNIT_ASSERT_EQUAL(std::string("cart"), v[1]);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ConfigTest);
