// shopctl (the operator's tool) against the running test stack: help and usage errors, status
// and plugin list, plugin checks in a child process, swaps verified through the admin API, and
// migrate on the already migrated database. The tool finds the stack through the SHOPD_*
// environment that scripts/test exports.
#include "http_client.hpp"
#include "plugin_swap.hpp"

#include <cppunit/extensions/HelperMacros.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <pqxx/pqxx>

#include <chrono>
#include <csignal>
#include <cstring>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

extern char **environ;

using namespace shopd::test;

namespace {

struct Run {
    int rc = -1;
    std::string out, err;
    std::string describe() const {
        return "exit " + std::to_string(rc) + "\nstdout:\n" + out + "\nstderr:\n" + err;
    }
};

/// Runs shopctl with `args` (and the environment without the variables in `unset`), capturing
/// stdout, stderr and the exit code; killed after 120 s.
Run shopctl(const std::vector<std::string> &args, const std::vector<std::string> &unset = {}) {
    std::vector<char *> envp;
    for (char **e = environ; *e; ++e) {
        bool keep = true;
        for (const auto &u : unset)
            if (std::strncmp(*e, (u + "=").c_str(), u.size() + 1) == 0) keep = false;
        if (keep) envp.push_back(*e);
    }
    envp.push_back(nullptr);
    int out[2], err[2];
    if (pipe(out) != 0 || pipe(err) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    for (int fd : {out[0], out[1], err[0], err[1]}) posix_spawn_file_actions_addclose(&fa, fd);
    std::vector<std::string> all{SHOPCTL_BIN};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char *> argv;
    argv.reserve(all.size() + 1);
    for (auto &a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, SHOPCTL_BIN, &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    close(err[1]);
    if (rc != 0) {
        close(out[0]);
        close(err[0]);
        throw std::runtime_error(std::string("posix_spawn: ") + std::strerror(rc));
    }
    Run r;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    std::string *sinks[2] = {&r.out, &r.err};
    int open_fds = 2;
    bool killed = false;
    while (open_fds > 0) {
        if (!killed && std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            killed = true;
        }
        if (poll(fds, 2, 500) < 0) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
            char buf[4096];
            const ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                sinks[i]->append(buf, static_cast<size_t>(n));
            } else {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    int status = 0;
    waitpid(pid, &status, 0);
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (killed) r.err += "\n(killed after 120 s)";
    return r;
}

bool has(const std::string &text, const std::string &what) {
    return text.find(what) != std::string::npos;
}

std::string str(const rapidjson::Value &o, const char *key) {
    return o.IsObject() && o.HasMember(key) && o[key].IsString() ? o[key].GetString() : "";
}

/// loaded_at of plugin `name` in GET /api/admin/plugins/.
std::string loaded_at(Http &admin, const std::string &name) {
    const auto r = admin.get("/api/admin/plugins/", admin_token());
    const auto d = r.json();
    CPPUNIT_ASSERT_MESSAGE(r.describe(), d.IsArray());
    for (const auto &p : d.GetArray())
        if (str(p, "name") == name) return str(p, "loaded_at");
    CPPUNIT_FAIL("no plugin " + name + " in " + r.body);
    return "";
}

/// The version `shopctl plugins check` reads from a build (it must accept it).
std::string checked_version(const std::string &so, const std::string &name) {
    const Run r = shopctl({"plugins", "check", so, "--name", name});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 0, r.rc);
    std::smatch m;
    CPPUNIT_ASSERT_MESSAGE(r.describe(),
                           std::regex_search(r.out, m, std::regex("ok, version (\\S+),")));
    return m[1];
}

}  // namespace

class ShopctlITest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ShopctlITest);
    CPPUNIT_TEST(helpOfEveryCommandExitsZero);
    CPPUNIT_TEST(usageErrorsExitTwo);
    CPPUNIT_TEST(statusAndListShowEveryPluginAndWorker);
    CPPUNIT_TEST(checkGivesTheHostsVerdict);
    CPPUNIT_TEST(swapToV2AndBackIsVerifiedThroughTheApi);
    CPPUNIT_TEST(swapOfTheSameFileTwiceChangesLoadedAt);
    CPPUNIT_TEST(swapOfARefusedFileFailsAndChangesNothing);
    CPPUNIT_TEST(migrateOnAMigratedDatabaseAppliesNothing);
    CPPUNIT_TEST(statusWithoutADatabaseCountsThroughTheApi);
    CPPUNIT_TEST(rollbackRestoresThePreviousVersionOrSaysTheHostIsTooOld);
    CPPUNIT_TEST(shadowCommandsFailClearly);
    CPPUNIT_TEST_SUITE_END();

public:
    void helpOfEveryCommandExitsZero() {
        const std::vector<std::vector<std::string>> cases = {{"--help"},
                                                             {"status", "--help"},
                                                             {"plugins", "--help"},
                                                             {"plugins", "list", "--help"},
                                                             {"plugins", "check", "--help"},
                                                             {"plugins", "swap", "--help"},
                                                             {"plugins", "rollback", "--help"},
                                                             {"plugins", "shadow", "--help"},
                                                             {"plugins", "shadow-report", "--help"},
                                                             {"plugins", "promote", "--help"},
                                                             {"plugins", "shadow-stop", "--help"},
                                                             {"migrate", "--help"},
                                                             {"--help", "plugins", "swap"}};
        for (const auto &args : cases) {
            const Run r = shopctl(args);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(args[0] + " ...: " + r.describe(), 0, r.rc);
            CPPUNIT_ASSERT_MESSAGE(r.describe(), has(r.out, "usage: shopctl"));
        }
    }

    void usageErrorsExitTwo() {
        const std::vector<std::vector<std::string>> cases = {
            {},
            {"frobnicate"},
            {"--bogus", "status"},
            {"status", "--bogus"},
            {"plugins"},
            {"plugins", "frobnicate"},
            {"plugins", "list", "--bogus"},
            {"plugins", "check"},
            {"plugins", "swap", "pricing"},
            {"plugins", "swap", "pricing", PRICING_V2_SO, "--timeout", "soon"},
            {"migrate", "extra"}};
        for (const auto &args : cases) {
            const Run r = shopctl(args);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 2, r.rc);
            CPPUNIT_ASSERT_MESSAGE(r.describe(), has(r.err, "shopctl: "));
        }
    }

    void statusAndListShowEveryPluginAndWorker() {
        Http admin;
        const auto resp = admin.get("/api/admin/plugins/", admin_token());
        const auto plugins = resp.json();
        CPPUNIT_ASSERT_MESSAGE(resp.describe(), plugins.IsArray() && !plugins.Empty());
        const Run status = shopctl({"status"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(status.describe(), 0, status.rc);
        CPPUNIT_ASSERT_MESSAGE(status.describe(), has(status.out, "/healthz/: ok"));
        CPPUNIT_ASSERT_MESSAGE(status.describe(), has(status.out, "/readyz/: ok"));
        for (const char *s : {"ACTIVE ", "CONFIRMED ", "EXPIRED ", "CANCELLED "})
            CPPUNIT_ASSERT_MESSAGE(status.describe(), has(status.out, s));
        const Run list = shopctl({"plugins", "list"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(list.describe(), 0, list.rc);
        CPPUNIT_ASSERT_MESSAGE(list.describe(), has(list.out, "LOADED_AT"));
        for (const auto &p : plugins.GetArray()) {
            const std::string name = str(p, "name");
            std::string line = name;
            line += ' ';
            line += str(p, "version");
            CPPUNIT_ASSERT_MESSAGE(status.describe(), has(status.out, line));
            CPPUNIT_ASSERT_MESSAGE(list.describe(), has(list.out, name));
            CPPUNIT_ASSERT_MESSAGE(list.describe(), has(list.out, str(p, "loaded_at")));
            for (const auto &w : p["workers"].GetArray()) {
                const std::string pid = std::to_string(w["pid"].GetInt64());
                CPPUNIT_ASSERT_MESSAGE(status.describe(), has(status.out, "worker " + pid + ":"));
                CPPUNIT_ASSERT_MESSAGE(list.describe(), has(list.out, pid + ":"));
            }
        }
    }

    void checkGivesTheHostsVerdict() {
        // The name defaults to the file's name without .so (pricing.so -> pricing).
        const Run v1 = shopctl({"plugins", "check", PRICING_SO});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(v1.describe(), 0, v1.rc);
        CPPUNIT_ASSERT_MESSAGE(v1.describe(), has(v1.out, "as pricing: ok, version "));
        CPPUNIT_ASSERT_MESSAGE(v1.describe(), has(v1.out, "\nschema: "));
        const std::string v2 = checked_version(PRICING_V2_SO, "pricing");
        CPPUNIT_ASSERT_MESSAGE(v2, !v2.empty() && !has(v1.out, "version " + v2 + ","));
        const Run abi = shopctl({"plugins", "check", PRICING_BADABI_SO, "--name", "pricing"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(abi.describe(), 1, abi.rc);
        CPPUNIT_ASSERT_MESSAGE(abi.describe(), has(abi.out, "REFUSED") && has(abi.out, "ABI"));
        const Run init = shopctl({"plugins", "check", THROWER_BADINIT_SO, "--name", "thrower"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(init.describe(), 1, init.rc);
        CPPUNIT_ASSERT_MESSAGE(init.describe(), has(init.out, "REFUSED") && has(init.out, "init"));
        const Run missing = shopctl({"plugins", "check", "/nonexistent/pricing.so"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(missing.describe(), 1, missing.rc);
    }

    void swapToV2AndBackIsVerifiedThroughTheApi() {
        Http admin;
        PluginRestore restore("pricing", PRICING_SO);
        const std::string v1 = checked_version(PRICING_SO, "pricing");
        const std::string v2 = checked_version(PRICING_V2_SO, "pricing");
        CPPUNIT_ASSERT_EQUAL(v1, plugin_version(admin, "pricing"));
        const Run up = shopctl({"plugins", "swap", "pricing", PRICING_V2_SO});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(up.describe(), 0, up.rc);
        CPPUNIT_ASSERT_MESSAGE(up.describe(), has(up.out, "before: pricing " + v1));
        CPPUNIT_ASSERT_MESSAGE(up.describe(), has(up.out, "after:  pricing " + v2));
        CPPUNIT_ASSERT_EQUAL(v2, plugin_version(admin, "pricing"));
        const Run down = shopctl({"plugins", "swap", "pricing", PRICING_SO});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(down.describe(), 0, down.rc);
        CPPUNIT_ASSERT_EQUAL(v1, plugin_version(admin, "pricing"));
        restore.restore(admin);
    }

    void swapOfTheSameFileTwiceChangesLoadedAt() {
        Http admin;
        PluginRestore restore("pricing", PRICING_SO);
        const std::string at0 = loaded_at(admin, "pricing");
        const Run first = shopctl({"plugins", "swap", "pricing", PRICING_SO});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(first.describe(), 0, first.rc);
        const std::string at1 = loaded_at(admin, "pricing");
        const Run second = shopctl({"plugins", "swap", "pricing", PRICING_SO});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(second.describe(), 0, second.rc);
        const std::string at2 = loaded_at(admin, "pricing");
        CPPUNIT_ASSERT_MESSAGE(at0 + " " + at1, at0 != at1);
        CPPUNIT_ASSERT_MESSAGE(at1 + " " + at2, at1 != at2);
        CPPUNIT_ASSERT_MESSAGE(second.describe(), has(second.out, "loaded_at " + at2));
        restore.restore(admin);
    }

    void swapOfARefusedFileFailsAndChangesNothing() {
        Http admin;
        PluginRestore restore("pricing", PRICING_SO);
        const std::string before = plugin_version(admin, "pricing");
        const std::string at = loaded_at(admin, "pricing");
        const Run r = shopctl({"plugins", "swap", "pricing", PRICING_BADABI_SO});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 1, r.rc);
        CPPUNIT_ASSERT_MESSAGE(r.describe(), has(r.err, "ABI"));
        CPPUNIT_ASSERT_EQUAL(before, plugin_version(admin, "pricing"));
        CPPUNIT_ASSERT_EQUAL(at, loaded_at(admin, "pricing"));
        restore.restore(admin);
    }

    void migrateOnAMigratedDatabaseAppliesNothing() {
        const Run r = shopctl({"migrate"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 0, r.rc);
        CPPUNIT_ASSERT_MESSAGE(r.describe(), has(r.out, "migrate: 0 applied"));
        CPPUNIT_ASSERT_MESSAGE(r.describe(), has(r.out, "skipped 001_schema (already applied)"));
        CPPUNIT_ASSERT_MESSAGE(r.describe(), !has(r.out, "\napplied "));
    }

    void statusWithoutADatabaseCountsThroughTheApi() {
        pqxx::connection c(env("SHOPD_DATABASE_URL"));
        const Run r = shopctl({"status"}, {"SHOPD_DATABASE_URL"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 0, r.rc);
        CPPUNIT_ASSERT_MESSAGE(r.describe(), has(r.out, "reservations (from the API)"));
        pqxx::read_transaction tx(c);
        for (const char *s : {"ACTIVE", "CONFIRMED", "EXPIRED", "CANCELLED"}) {
            const auto n =
                tx.exec_params1("SELECT count(*) FROM reservations WHERE status = $1", s);
            CPPUNIT_ASSERT_MESSAGE(r.describe(),
                                   has(r.out, "  " + std::string(s) + " " +
                                                  std::to_string(n[0].as<long long>()) + "\n"));
        }
    }

    void rollbackRestoresThePreviousVersionOrSaysTheHostIsTooOld() {
        Http admin;
        PluginRestore restore("pricing", PRICING_SO);
        const Run unknown = shopctl({"plugins", "rollback", "nosuchplugin"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(unknown.describe(), 1, unknown.rc);
        CPPUNIT_ASSERT_MESSAGE(unknown.describe(), has(unknown.err, "no plugin named"));
        const std::string v1 = checked_version(PRICING_SO, "pricing");
        const std::string v2 = checked_version(PRICING_V2_SO, "pricing");
        const Run up = shopctl({"plugins", "swap", "pricing", PRICING_V2_SO});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(up.describe(), 0, up.rc);
        const Run back = shopctl({"plugins", "rollback", "pricing"});
        if (back.rc == 1 && has(back.err, "host too old")) {
            CPPUNIT_ASSERT_EQUAL(v2, plugin_version(admin, "pricing"));  // nothing changed
        } else {
            CPPUNIT_ASSERT_EQUAL_MESSAGE(back.describe(), 0, back.rc);
            CPPUNIT_ASSERT_MESSAGE(back.describe(), has(back.out, "after:  pricing " + v1));
            CPPUNIT_ASSERT_EQUAL(v1, plugin_version(admin, "pricing"));
        }
        restore.restore(admin);
    }

    void shadowCommandsFailClearly() {
        // No shadow is running: each command fails (1) with a message, whether or not this host
        // has the shadow API yet.
        for (const std::vector<std::string> &args :
             {std::vector<std::string>{"plugins", "shadow-report", "pricing"},
              std::vector<std::string>{"plugins", "promote", "pricing"},
              std::vector<std::string>{"plugins", "shadow", "pricing", PRICING_BADABI_SO}}) {
            const Run r = shopctl(args);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 1, r.rc);
            CPPUNIT_ASSERT_MESSAGE(r.describe(), has(r.err, "shopctl: "));
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ShopctlITest);
