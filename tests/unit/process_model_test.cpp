// Unit tests of the process model's parts that need no running host: the master's plugin check
// in a child process, generation adoption, the shared seqlock, session settings in the
// connection string and the process/thread defaults.
#include "config.hpp"
#include "generations.hpp"
#include "shared_state.hpp"
#include "shopd/plugin_def.hpp"
#include "worker_db.hpp"

#include <cppunit/extensions/HelperMacros.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <thread>

namespace fs = std::filesystem;
using namespace shopd::host;

class ProcessModelTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ProcessModelTest);
    CPPUNIT_TEST(checkAcceptsAGoodPluginAndReadsItsVersion);
    CPPUNIT_TEST(checkRefusesBadFilesWithTheReason);
    CPPUNIT_TEST(refreshAdoptsOnlyChangedFiles);
    CPPUNIT_TEST(refusedFileKeepsTheManifestEntry);
    CPPUNIT_TEST(seqlockSurvivesAWriterKilledMidWrite);
    CPPUNIT_TEST(seqlockIsSharedAcrossFork);
    CPPUNIT_TEST(sessionSettingsGoIntoTheStartupOptions);
    CPPUNIT_TEST(processDefaultsKeepTheConnectionBudget);
    CPPUNIT_TEST(socketModeAndPublicUrlAreValidated);
    CPPUNIT_TEST(schemaVersionMatchesTheNewestMigration);
    CPPUNIT_TEST_SUITE_END();

    fs::path dir_;

    void install(const char *built, const std::string &as) {
        const fs::path tmp = dir_ / (".tmp-" + as);
        fs::copy_file(built, tmp, fs::copy_options::overwrite_existing);
        fs::rename(tmp, dir_ / (as + ".so"));  // a new inode, as operators replace files
    }

    static ParseResult parse(std::vector<const char *> args) {
        args.insert(args.begin(), "shopd");
        return parse_config(static_cast<int>(args.size()), args.data());
    }

public:
    void setUp() override {
        dir_ = fs::temp_directory_path() / ("shopd-pm-test-" + std::to_string(getpid()));
        fs::create_directories(dir_ / "gen");
    }
    void tearDown() override { fs::remove_all(dir_); }

    void checkAcceptsAGoodPluginAndReadsItsVersion() {
        const CheckResult v1 = check_in_child(PRICING_SO, "pricing", 5000);
        CPPUNIT_ASSERT_MESSAGE(v1.error, v1.ok);
        CPPUNIT_ASSERT_EQUAL(std::string("1.0.0"), v1.version);
        CPPUNIT_ASSERT_EQUAL(unsigned(SHOPD_PLUGIN_ABI_VERSION), v1.abi);
        const CheckResult v2 = check_in_child(PRICING_V2_SO, "pricing", 5000);
        CPPUNIT_ASSERT_EQUAL(std::string("2.0.0"), v2.version);
    }

    void checkRefusesBadFilesWithTheReason() {
        const CheckResult abi = check_in_child(PRICING_BADABI_SO, "pricing", 5000);
        CPPUNIT_ASSERT(!abi.ok);
        CPPUNIT_ASSERT_MESSAGE(abi.error, abi.error.find("ABI version 999") != std::string::npos);
        const CheckResult entry = check_in_child(THROWER_BADENTRY_SO, "thrower", 5000);
        CPPUNIT_ASSERT(!entry.ok);
        CPPUNIT_ASSERT_MESSAGE(entry.error,
                               entry.error.find("entry point threw") != std::string::npos);
        const CheckResult name = check_in_child(PRICING_SO, "catalog", 5000);
        CPPUNIT_ASSERT_MESSAGE(name.error, name.error.find("no entry point") != std::string::npos);
        // init() runs too, in the child: a throwing or crashing one is refused there.
        const CheckResult threw = check_in_child(THROWER_BADINIT_SO, "thrower", 5000);
        CPPUNIT_ASSERT_MESSAGE(threw.error, !threw.ok && threw.error.find("init threw") == 0);
        const CheckResult crashed = check_in_child(THROWER_CRASHINIT_SO, "thrower", 5000);
        CPPUNIT_ASSERT_MESSAGE(crashed.error,
                               !crashed.ok && crashed.error.find("the check process died") == 0);
        const CheckResult missing = check_in_child((dir_ / "none.so").c_str(), "none", 5000);
        CPPUNIT_ASSERT(!missing.ok && !missing.error.empty());
    }

    void refreshAdoptsOnlyChangedFiles() {
        install(PRICING_SO, "pricing");
        Generations gens(dir_.string(), {"pricing"}, (dir_ / "gen").string());
        Manifest m{};
        ReloadRecord r = gens.refresh(m);
        CPPUNIT_ASSERT_EQUAL(std::string("reloaded"), std::string(r.plugins[0].outcome));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), m.generation);
        const std::uint64_t first = m.entries[0].serial;
        CPPUNIT_ASSERT(fs::exists(m.entries[0].copy));
        r = gens.refresh(m);
        CPPUNIT_ASSERT_EQUAL(std::string("unchanged"), std::string(r.plugins[0].outcome));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), m.generation);
        install(PRICING_V2_SO, "pricing");
        r = gens.refresh(m);
        CPPUNIT_ASSERT_EQUAL(std::string("reloaded"), std::string(r.plugins[0].outcome));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), m.generation);
        CPPUNIT_ASSERT(m.entries[0].serial > first);
        CPPUNIT_ASSERT_EQUAL(std::string("2.0.0"), std::string(m.entries[0].version));
        // The same file again (same version string, new inode) is a new generation too.
        install(PRICING_V2_SO, "pricing");
        const std::uint64_t second = m.entries[0].serial;
        gens.refresh(m);
        CPPUNIT_ASSERT(m.entries[0].serial > second);
    }

    void refusedFileKeepsTheManifestEntry() {
        install(PRICING_SO, "pricing");
        Generations gens(dir_.string(), {"pricing"}, (dir_ / "gen").string());
        Manifest m{};
        gens.refresh(m);
        const ManifestEntry before = m.entries[0];
        install(PRICING_BADABI_SO, "pricing");
        const ReloadRecord r = gens.refresh(m);
        CPPUNIT_ASSERT_EQUAL(std::string("refused"), std::string(r.plugins[0].outcome));
        CPPUNIT_ASSERT(std::string(r.plugins[0].reason).find("ABI") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(before.serial, m.entries[0].serial);
        CPPUNIT_ASSERT_EQUAL(std::string(before.copy), std::string(m.entries[0].copy));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), m.generation);
        CPPUNIT_ASSERT(fs::exists(m.entries[0].copy));
    }

    void seqlockSurvivesAWriterKilledMidWrite() {
        SharedState &s = *SharedState::create();
        WorkerReport r{};
        r.pid = 42;
        s.workers[0].write(r);
        // Simulate a death mid-write: the sequence stays odd.
        auto *seq = reinterpret_cast<std::atomic<std::uint64_t> *>(&s.workers[0]);
        seq->fetch_add(1);
        WorkerReport out{};
        s.workers[0].read(out);  // bounded: returns rather than spinning forever
        s.workers[0].reset();
        s.workers[0].read(out);
        CPPUNIT_ASSERT_EQUAL(pid_t(0), out.pid);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), seq->load() % 2);
    }

    void seqlockIsSharedAcrossFork() {
        SharedState &s = *SharedState::create();
        const pid_t child = fork();
        if (child == 0) {
            Manifest m{};
            m.generation = 7;
            copy_text(m.entries[0].name, "pricing");
            s.manifest.write(m);
            s.reload_completed.store(3);
            _exit(0);
        }
        int status = 0;
        waitpid(child, &status, 0);
        Manifest m{};
        s.manifest.read(m);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(7), m.generation);
        CPPUNIT_ASSERT_EQUAL(std::string("pricing"), std::string(m.entries[0].name));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), s.reload_completed.load());
    }

    void sessionSettingsGoIntoTheStartupOptions() {
        const std::string url = with_session_settings(
            "postgresql://app@db.internal:5433/shop?application_name=x", "-c lock_timeout=5ms");
        CPPUNIT_ASSERT_MESSAGE(url, url.find("host='db.internal'") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(url, url.find("port='5433'") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(url, url.find("dbname='shop'") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(url, url.find("application_name='x'") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(url, url.find("options='-c lock_timeout=5ms'") != std::string::npos);
        // The operator's own options come after ours, so they win; quotes are escaped.
        const std::string kv = with_session_settings(
            "dbname=shop password='it\\'s' options='-c work_mem=8MB'", "-c jit=off");
        CPPUNIT_ASSERT_MESSAGE(kv, kv.find("password='it\\'s'") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(
            kv, kv.find("options='-c jit=off -c work_mem=8MB'") != std::string::npos);
        CPPUNIT_ASSERT_THROW(with_session_settings("postgresql://[bad", "-c x=1"),
                             std::invalid_argument);
    }

    void processDefaultsKeepTheConnectionBudget() {
        const auto one = parse({"--processes", "1"});
        const auto four = parse({"--processes", "4"});
        CPPUNIT_ASSERT(one.config && four.config);
        const unsigned cores = std::max(2u, std::thread::hardware_concurrency());
        CPPUNIT_ASSERT(one.config->workers >= 4 * cores);
        // Split across processes, about the same total.
        CPPUNIT_ASSERT(four.config->workers * 4 >= 4 * cores);
        CPPUNIT_ASSERT(four.config->workers * 4 < 4 * cores + 4 + 8);
        const auto dflt = parse({});
        CPPUNIT_ASSERT(dflt.config && dflt.config->processes >= 1);
        CPPUNIT_ASSERT_EQUAL(2, parse({"--processes", "65"}).exit_code);
        const auto explicit_workers = parse({"--processes", "3", "--workers", "5"});
        CPPUNIT_ASSERT_EQUAL(5u, explicit_workers.config->workers);
    }

    /// kSchemaVersion, the default lower bound of every plugin built here, is the newest
    /// sql/NNN_*.sql; the check reports the bound even without a database.
    void schemaVersionMatchesTheNewestMigration() {
        unsigned newest = 0;
        for (const auto &f : fs::directory_iterator(SHOPD_SQL_DIR)) {
            const std::string n = f.path().filename().string();
            if (n.size() > 4 && std::isdigit(static_cast<unsigned char>(n[0])))
                newest = std::max(newest, static_cast<unsigned>(std::stoul(n.substr(0, 3))));
        }
        CPPUNIT_ASSERT_EQUAL(newest, shopd::kSchemaVersion);
        const CheckResult r = check_in_child(PRICING_SO, "pricing", 5000);
        CPPUNIT_ASSERT_EQUAL(std::string("needs schema ") + std::to_string(newest) +
                                 ".. (not compared: no database given)",
                             r.schema);
    }

    void socketModeAndPublicUrlAreValidated() {
        CPPUNIT_ASSERT_EQUAL(0660u, parse({}).config->socket_mode);
        CPPUNIT_ASSERT_EQUAL(0600u, parse({"--socket-mode", "600"}).config->socket_mode);
        CPPUNIT_ASSERT_EQUAL(2, parse({"--socket-mode", "0999"}).exit_code);
        CPPUNIT_ASSERT_EQUAL(2, parse({"--socket-mode", "rw"}).exit_code);
        CPPUNIT_ASSERT_EQUAL(std::string("https://shop.example"),
                             parse({"--public-url", "https://shop.example/"}).config->public_url);
        CPPUNIT_ASSERT_EQUAL(2, parse({"--public-url", "shop.example"}).exit_code);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ProcessModelTest);
