// The host under systemd's protocols, without systemd (issue 13), each with a host of the test's
// own (the shared stack is not touched):
//   - sd_notify against a test-owned NOTIFY_SOCKET: READY=1 only once every worker serves and
//     the database answers (never with a database that does not answer), STATUS= names workers
//     and plugins, RELOADING=1 then READY=1 around SIGHUP, STOPPING=1 on SIGTERM;
//   - the watchdog (WATCHDOG_USEC/WATCHDOG_PID): WATCHDOG=1 pings stop while the workers are
//     SIGSTOPped and resume after SIGCONT;
//   - socket activation: the host serves from the socket systemd-socket-activate passes it;
//   - binary upgrade: a copy of shopd replaced by another build (renamed over it) and SIGUSR2
//     under mixed load (product reads, price quotes, cart adds, checkouts): 0 failed requests,
//     the master's pid kept, every worker new, the old ones gone within 10 s.
#include "http_client.hpp"
#include "own_stack.hpp"
#include "plugin_swap.hpp"  // Joiner
#include "store_fixtures.hpp"

#include <cppunit/extensions/HelperMacros.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

using namespace shopd::test;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

bool contains(const std::string &text, const std::string &needle) {
    return text.find(needle) != std::string::npos;
}

std::string temp_dir() {
    std::string tmpl = "/tmp/shopd-systemd-itest.XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    return tmpl;
}

std::string read_all(const std::string &path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// The notify socket systemd would own: a unix datagram socket the test reads.
class NotifySocket {
public:
    explicit NotifySocket(const std::string &path) : path_(path) {
        fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        path.copy(a.sun_path, sizeof a.sun_path - 1);
        if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0)
            throw std::runtime_error("cannot bind " + path);
        const timeval tv{0, 100000};
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~NotifySocket() { close(fd_); }
    const std::string &path() const { return path_; }
    /// Every datagram received within `limit` (or until one contains `until`).
    std::vector<std::string> receive(milliseconds limit, const std::string &until = "") {
        std::vector<std::string> got;
        const auto deadline = Clock::now() + limit;
        while (Clock::now() < deadline) {
            char buf[4096];
            const ssize_t n = recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) continue;
            got.emplace_back(buf, static_cast<std::size_t>(n));
            if (!until.empty() && contains(got.back(), until)) break;
        }
        return got;
    }

private:
    std::string path_;
    int fd_ = -1;
};

std::size_t count_with(const std::vector<std::string> &msgs, const std::string &needle) {
    return static_cast<std::size_t>(std::count_if(
        msgs.begin(), msgs.end(), [&](const std::string &m) { return contains(m, needle); }));
}

/// A host of ours started as `prefix... binary args`, with `env` added (NAME=value; "$PID" in a
/// value becomes the host's pid, as systemd sets WATCHDOG_PID), in its own process group.
class Host {
public:
    Host(const std::string &dir, const std::string &binary, std::vector<std::string> env,
         std::vector<std::string> extra, std::vector<std::string> prefix = {})
        : dir_(dir) {
        const std::string var = shopd::test::env("SHOPD_VAR");
        std::vector<std::string> args = prefix;
        args.insert(args.end(), {binary, "--listen", "unix:" + socket(), "--plugin-dir",
                                 var + "/plugins", "--admin-token-file", var + "/run/admin-tokens",
                                 "--generation-dir", dir + "/generations"});
        if (std::find(extra.begin(), extra.end(), "--database-url") == extra.end())
            args.insert(args.end(), {"--database-url", shopd::test::env("SHOPD_DATABASE_URL")});
        if (const char *plugins = std::getenv("SHOPD_PLUGINS"))
            args.insert(args.end(), {"--plugins", plugins});
        args.insert(args.end(), extra.begin(), extra.end());
        pid_ = fork();
        if (pid_ == 0) {
            setsid();
            for (auto &e : env) {
                const auto at = e.find("$PID");
                if (at != std::string::npos) e.replace(at, 4, std::to_string(getpid()));
                putenv(e.data());
            }
            if (!std::freopen(log_file().c_str(), "a", stderr) ||
                !std::freopen("/dev/null", "r", stdin))
                _exit(127);
            std::vector<char *> argv;
            for (auto &a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            execvp(argv[0], argv.data());
            _exit(127);
        }
    }
    ~Host() {
        ::kill(-pid_, SIGKILL);
        int status = 0;
        waitpid(pid_, &status, 0);
        for (int i = 0; i < 200 && ::kill(-pid_, 0) == 0; ++i)
            std::this_thread::sleep_for(milliseconds(50));
    }
    Host(const Host &) = delete;
    Host &operator=(const Host &) = delete;

    pid_t pid() const { return pid_; }
    std::string socket() const { return dir_ + "/shopd.sock"; }
    std::string log_file() const { return dir_ + "/shopd.log"; }
    std::string log() const { return read_all(log_file()); }
    std::set<int> workers() const {
        std::set<int> out;
        std::ifstream in("/proc/" + std::to_string(pid_) + "/task/" + std::to_string(pid_) +
                         "/children");
        int pid;
        while (in >> pid) out.insert(pid);
        return out;
    }
    /// Waits until `n` workers logged "serving with" (false after `limit`).
    bool wait_serving(std::size_t n, milliseconds limit) const {
        const auto deadline = Clock::now() + limit;
        for (;;) {
            const std::string l = log();
            std::size_t c = 0;
            for (auto at = l.find("serving with"); at != std::string::npos;
                 at = l.find("serving with", at + 1))
                ++c;
            if (c >= n) return true;
            if (Clock::now() > deadline) return false;
            std::this_thread::sleep_for(milliseconds(50));
        }
    }

private:
    std::string dir_;
    pid_t pid_ = -1;
};

struct TempDir {
    std::string path = temp_dir();
    ~TempDir() {
        if (std::system(("rm -rf " + path).c_str()) != 0) {
            // nothing to do in a destructor
        }
    }
};

/// What one kind of client saw under the upgrade. Threads never assert.
struct Tally {
    std::string name;
    std::atomic<long> sent{0}, failed{0};
    std::mutex mu;
    std::vector<std::string> failures;
    explicit Tally(std::string n) : name(std::move(n)) {}
    void count(Http &http, const std::string &method, const std::string &url,
               const std::string &body, const std::string &token, std::initializer_list<long> ok) {
        ++sent;
        std::string what;
        try {
            const auto r = http.request(method, url, body, token);
            if (std::find(ok.begin(), ok.end(), r.status) != ok.end()) return;
            what = r.describe().substr(0, 200);
        } catch (const std::exception &e) {
            what = e.what();
        }
        ++failed;
        std::lock_guard<std::mutex> lock(mu);
        if (failures.size() < 5) failures.push_back(method + " " + url + ": " + what);
    }
    std::string report() {
        std::lock_guard<std::mutex> lock(mu);
        std::string out =
            name + ": sent " + std::to_string(sent) + ", failed " + std::to_string(failed);
        for (const auto &f : failures) out += "\n  " + f;
        return out;
    }
};

}  // namespace

class SystemdITest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SystemdITest);
    CPPUNIT_TEST(readyReloadingStoppingOverTheNotifySocket);
    CPPUNIT_TEST(noReadyWhileTheDatabaseDoesNotAnswer);
    CPPUNIT_TEST(watchdogPingsStopWhileWorkersAreStopped);
    CPPUNIT_TEST(servesFromASocketPassedBySystemdSocketActivate);
    CPPUNIT_TEST(upgradeUnderMixedLoadFailsNoRequest);
    CPPUNIT_TEST(shopctlUpgradeRefusedKeepsServing);
    CPPUNIT_TEST_SUITE_END();

public:
    void readyReloadingStoppingOverTheNotifySocket() {
        TempDir dir;
        NotifySocket notify(dir.path + "/notify.sock");
        Host host(dir.path, SHOPD_HOST_BINARY, {"NOTIFY_SOCKET=" + notify.path()},
                  {"--processes", "2", "--workers", "2"});
        const auto msgs = notify.receive(milliseconds(20000), "READY=1");
        CPPUNIT_ASSERT_MESSAGE("no READY=1 within 20 s: " + host.log(),
                               count_with(msgs, "READY=1") == 1);
        // Both workers had loaded their plugins when READY=1 came.
        CPPUNIT_ASSERT_MESSAGE(host.log(), host.wait_serving(2, milliseconds(0)));
        CPPUNIT_ASSERT_MESSAGE("no STATUS before READY",
                               count_with(msgs, "STATUS=2/2 workers ready; plugins ") >= 1);
        OwnNginx nginx("", host.socket());
        Http http;
        CPPUNIT_ASSERT_EQUAL(200L, http.get(nginx.url() + "/readyz/").status);

        CPPUNIT_ASSERT_EQUAL(0, ::kill(host.pid(), SIGHUP));
        auto reload = notify.receive(milliseconds(15000), "READY=1");
        const auto reloading = std::find_if(
            reload.begin(), reload.end(), [](const auto &m) { return contains(m, "RELOADING=1"); });
        CPPUNIT_ASSERT_MESSAGE("no RELOADING=1 on SIGHUP", reloading != reload.end());
        CPPUNIT_ASSERT_MESSAGE("no READY=1 after the reload",
                               std::find_if(reloading, reload.end(), [](const auto &m) {
                                   return contains(m, "READY=1") && !contains(m, "RELOADING");
                               }) != reload.end());

        CPPUNIT_ASSERT_EQUAL(0, ::kill(host.pid(), SIGTERM));
        const auto stop = notify.receive(milliseconds(10000), "STOPPING=1");
        CPPUNIT_ASSERT_MESSAGE("no STOPPING=1 on SIGTERM", count_with(stop, "STOPPING=1") == 1);
    }

    void noReadyWhileTheDatabaseDoesNotAnswer() {
        TempDir dir;
        NotifySocket notify(dir.path + "/notify.sock");
        // A port nothing listens on (bound, never listened to, so no one else takes it).
        const int holder = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        CPPUNIT_ASSERT_EQUAL(0, bind(holder, reinterpret_cast<sockaddr *>(&a), sizeof a));
        CPPUNIT_ASSERT_EQUAL(0, getsockname(holder, reinterpret_cast<sockaddr *>(&a), &len));
        const std::string url =
            "postgresql://shopd@127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/shopd";
        Host host(dir.path, SHOPD_HOST_BINARY, {"NOTIFY_SOCKET=" + notify.path()},
                  {"--processes", "1", "--workers", "1", "--database-url", url});
        const auto msgs = notify.receive(milliseconds(6000), "READY=1");
        close(holder);
        CPPUNIT_ASSERT_MESSAGE("READY=1 without a database: " + host.log(),
                               count_with(msgs, "READY=1") == 0);
    }

    void watchdogPingsStopWhileWorkersAreStopped() {
        TempDir dir;
        NotifySocket notify(dir.path + "/notify.sock");
        Host host(dir.path, SHOPD_HOST_BINARY,
                  {"NOTIFY_SOCKET=" + notify.path(), "WATCHDOG_USEC=2000000", "WATCHDOG_PID=$PID"},
                  {"--processes", "2", "--workers", "2"});
        CPPUNIT_ASSERT_MESSAGE(
            "no READY=1: " + host.log(),
            count_with(notify.receive(milliseconds(20000), "READY=1"), "READY=1") == 1);
        const std::size_t healthy = count_with(notify.receive(milliseconds(3000)), "WATCHDOG=1");
        const std::set<int> workers = host.workers();
        CPPUNIT_ASSERT_EQUAL(std::size_t{2}, workers.size());
        for (const int w : workers) CPPUNIT_ASSERT_EQUAL(0, ::kill(w, SIGSTOP));
        (void)notify.receive(milliseconds(1500));  // a ping already due may still come
        const std::size_t stopped = count_with(notify.receive(milliseconds(3000)), "WATCHDOG=1");
        for (const int w : workers) CPPUNIT_ASSERT_EQUAL(0, ::kill(w, SIGCONT));
        const std::size_t resumed = count_with(notify.receive(milliseconds(3000)), "WATCHDOG=1");
        std::cerr << "\n[watchdog] WATCHDOG=1 pings, 3 s each (WATCHDOG_USEC 2 s): healthy "
                  << healthy << ", workers stopped " << stopped << ", resumed " << resumed
                  << std::endl;
        CPPUNIT_ASSERT(healthy >= 2);
        CPPUNIT_ASSERT_EQUAL(std::size_t{0}, stopped);
        CPPUNIT_ASSERT(resumed >= 1);
    }

    void servesFromASocketPassedBySystemdSocketActivate() {
        TempDir dir;
        const std::string passed = dir.path + "/activated.sock";
        // Its --listen names shopd.sock: the host must ignore it for the passed socket.
        Host host(dir.path, SHOPD_HOST_BINARY, {}, {"--processes", "1", "--workers", "2"},
                  {"systemd-socket-activate", "-l", passed});
        // systemd-socket-activate starts the program at the first connection, as systemd does.
        int fd = -1;
        for (int i = 0; i < 100 && fd < 0; ++i) {
            fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_un a{};
            a.sun_family = AF_UNIX;
            passed.copy(a.sun_path, sizeof a.sun_path - 1);
            if (connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
                close(fd);
                fd = -1;
                std::this_thread::sleep_for(milliseconds(50));
            }
        }
        CPPUNIT_ASSERT_MESSAGE("cannot connect to " + passed, fd >= 0);
        close(fd);
        CPPUNIT_ASSERT_MESSAGE(host.log(), host.wait_serving(1, milliseconds(20000)));
        CPPUNIT_ASSERT_MESSAGE(host.log(), contains(host.log(), "an inherited socket"));
        struct stat st {};
        CPPUNIT_ASSERT_MESSAGE("the host bound --listen too", ::stat(host.socket().c_str(), &st));
        OwnNginx nginx("", passed);
        Http http;
        for (int i = 0; i < 20; ++i)
            CPPUNIT_ASSERT_EQUAL(200L, http.get(nginx.url() + "/readyz/").status);
    }

    void upgradeUnderMixedLoadFailsNoRequest() {
        TempDir dir;
        const std::string binary = dir.path + "/shopd";
        // The "new build": the same program, other bytes (appended), renamed over the old file.
        const std::string copy = "cp '" SHOPD_HOST_BINARY "' '" + binary + "'";
        CPPUNIT_ASSERT_EQUAL(0, std::system(copy.c_str()));
        Host host(dir.path, binary, {}, {"--processes", "2", "--workers", "3"});
        CPPUNIT_ASSERT_MESSAGE(host.log(), host.wait_serving(2, milliseconds(20000)));
        OwnNginx nginx("", host.socket());
        const std::string base = nginx.url();
        Http admin;
        std::vector<NewProduct> products;
        for (int i = 0; i < 4; ++i)
            products.push_back(new_product(admin, {{"0.00", 1000000}}, "upg"));
        std::vector<std::string> tokens;
        for (int i = 0; i < 2; ++i) tokens.push_back(new_customer(admin));

        Tally reads("product reads"), quotes("price quotes"), adds("cart adds"),
            checkouts("checkouts");
        std::atomic<bool> stop{false};
        std::vector<std::thread> threads;
        const std::set<int> old_workers = host.workers();
        std::set<int> new_workers;
        long long gone_ms = -1;
        {
            Joiner joiner{stop, threads};
            for (int i = 0; i < 3; ++i)
                threads.emplace_back([&, i] {
                    Http http;
                    for (std::size_t n = i; !stop; ++n) {
                        const auto &p = products[n % products.size()];
                        reads.count(http, "GET",
                                    base + "/api/products/" + std::to_string(p.id) + "/", "", "",
                                    {200});
                        quotes.count(
                            http, "GET",
                            base + "/api/pricing/" + std::to_string(p.id) +
                                "/price/?quantity=2&variant_id=" + std::to_string(p.variants[0]),
                            "", "", {200});
                    }
                });
            for (int i = 0; i < 2; ++i)
                threads.emplace_back([&, i] {
                    Http http;
                    for (std::size_t n = i; !stop; ++n) {
                        const auto &p = products[n % products.size()];
                        adds.count(
                            http, "POST", base + "/api/cart/items/",
                            "{\"variant_id\":" + std::to_string(p.variants[0]) + ",\"quantity\":1}",
                            tokens[i], {200, 201});
                        if (n % 3 == 2)
                            checkouts.count(http, "POST", base + "/api/cart/checkout/", "",
                                            tokens[i], {201});
                    }
                });
            std::this_thread::sleep_for(milliseconds(700));
            const std::string next = binary + ".next";
            CPPUNIT_ASSERT_EQUAL(
                0, std::system(("cp '" SHOPD_HOST_BINARY "' '" + next + "' && echo rebuilt >>'" +
                                next + "' && mv '" + next + "' '" + binary + "'")
                                   .c_str()));
            const auto sent = Clock::now();
            CPPUNIT_ASSERT_EQUAL(0, ::kill(host.pid(), SIGUSR2));
            while (Clock::now() - sent < std::chrono::seconds(30)) {
                const std::set<int> now = host.workers();
                const bool old_left = std::any_of(old_workers.begin(), old_workers.end(),
                                                  [&](int p) { return now.count(p) != 0; });
                if (!old_left && now.size() == 2) {
                    gone_ms = std::chrono::duration_cast<milliseconds>(Clock::now() - sent).count();
                    new_workers = now;
                    break;
                }
                std::this_thread::sleep_for(milliseconds(20));
            }
            std::this_thread::sleep_for(milliseconds(1000));  // load on the new workers
        }
        const std::string exe = "/proc/" + std::to_string(host.pid()) + "/exe";
        char target[4096] = {};
        const ssize_t n = readlink(exe.c_str(), target, sizeof target - 1);
        std::cerr << "\n[upgrade] old workers gone, new ones serving " << gone_ms
                  << " ms after SIGUSR2\n[upgrade] " << reads.report() << "\n[upgrade] "
                  << quotes.report() << "\n[upgrade] " << adds.report() << "\n[upgrade] "
                  << checkouts.report() << std::endl;
        if (reads.failed + quotes.failed + adds.failed + checkouts.failed > 0)
            std::cerr << "[upgrade] nginx error log:\n" << nginx.error_log() << std::endl;
        CPPUNIT_ASSERT_MESSAGE("old workers still there after 30 s: " + host.log(), gone_ms >= 0);
        CPPUNIT_ASSERT_MESSAGE("old workers took longer than 10 s", gone_ms < 12000);
        CPPUNIT_ASSERT_MESSAGE(host.log(), contains(host.log(), "upgrade complete"));
        CPPUNIT_ASSERT_MESSAGE("the master runs the old file",
                               n > 0 && !contains(target, "deleted"));
        CPPUNIT_ASSERT_EQUAL(0, ::kill(host.pid(), 0));  // the same pid serves
        for (const int w : new_workers) CPPUNIT_ASSERT(old_workers.count(w) == 0);
        for (Tally *t : {&reads, &quotes, &adds, &checkouts}) {
            CPPUNIT_ASSERT_MESSAGE(t->report(), t->sent > 10);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(t->report(), 0L, t->failed.load());
        }
    }

    /// A "new build" that fails --check-config: `shopctl upgrade --pid P` reports the failure
    /// (exit 1), the master logs "upgrade refused" and serves on with the same workers; then the
    /// real build back in place, `shopctl upgrade` (pid from SHOPD_HOST_PID) succeeds.
    void shopctlUpgradeRefusedKeepsServing() {
        TempDir dir;
        const std::string binary = dir.path + "/shopd";
        CPPUNIT_ASSERT_EQUAL(0,
                             std::system(("cp '" SHOPD_HOST_BINARY "' '" + binary + "'").c_str()));
        Host host(dir.path, binary, {}, {"--processes", "1", "--workers", "2"});
        CPPUNIT_ASSERT_MESSAGE(host.log(), host.wait_serving(1, milliseconds(20000)));
        const std::set<int> before = host.workers();
        const std::string broken = "printf '#!/bin/sh\\nexit 1\\n' >'" + binary +
                                   ".next' && chmod +x '" + binary + ".next' && mv '" + binary +
                                   ".next' '" + binary + "'";
        CPPUNIT_ASSERT_EQUAL(0, std::system(broken.c_str()));
        const std::string pid = std::to_string(host.pid());
        const int refused = std::system(
            (SHOPCTL_BIN " upgrade --pid " + pid + " --timeout 5 >/dev/null 2>&1").c_str());
        CPPUNIT_ASSERT_MESSAGE("shopctl upgrade did not fail", refused != 0);
        CPPUNIT_ASSERT_MESSAGE(host.log(), contains(host.log(), "upgrade refused"));
        CPPUNIT_ASSERT(before == host.workers());
        OwnNginx nginx("", host.socket());
        Http http;
        CPPUNIT_ASSERT_EQUAL(200L, http.get(nginx.url() + "/readyz/").status);

        CPPUNIT_ASSERT_EQUAL(0, std::system(("cp '" SHOPD_HOST_BINARY "' '" + binary +
                                             ".next' && mv '" + binary + ".next' '" + binary + "'")
                                                .c_str()));
        const int upgraded = std::system(
            ("SHOPD_HOST_PID=" + pid + " " SHOPCTL_BIN " upgrade >/dev/null 2>&1").c_str());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(host.log(), 0, upgraded);
        const std::set<int> after = host.workers();
        CPPUNIT_ASSERT_EQUAL(std::size_t{1}, after.size());
        CPPUNIT_ASSERT(before != after);
        CPPUNIT_ASSERT_EQUAL(200L, http.get(nginx.url() + "/readyz/").status);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SystemdITest);
