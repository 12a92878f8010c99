// Integration test of several host masters behind one nginx upstream (scripts/stack up --hosts N
// in small): the test starts a second host master itself (same database, plugin dir and admin
// token file as the running stack, its own socket, in a process group of its own) and a second
// nginx rendered by scripts/lib.sh's nginx_start over both sockets. Killing the second host's
// whole process group (master and workers, kill -9) under GET load must fail no GET: nginx
// retries them on the other entries of the upstream. A checkout that failed is retried by the
// client with the same Idempotency-Key and must reserve exactly once.
#include "http_client.hpp"
#include "store_fixtures.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cppunit/extensions/HelperMacros.h>
#include <pqxx/pqxx>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#ifndef SHOPD_HOST_BIN
#error "SHOPD_HOST_BIN (the host binary) must be defined by the build"
#endif

using namespace shopd::test;

namespace {

using Clock = std::chrono::steady_clock;

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::string read_file(const std::string &path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// A temp dir removed (with everything in it) on destruction.
class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/shopd-hosts-itest.XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        const std::string cmd = "rm -rf '" + path_ + "'";
        if (std::system(cmd.c_str()) != 0) {
            // Nothing to do in a destructor; the name says where it came from.
        }
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    const std::string &path() const { return path_; }

private:
    std::string path_;
};

/// A second host master on `dir`/shopd-2.sock, started with setsid: its pid is its process
/// group, so kill(-pid) reaches the master and all its workers. Killed (group) on destruction.
class SecondHost {
public:
    explicit SecondHost(const std::string &dir)
        : socket_(dir + "/shopd-2.sock"), log_(dir + "/shopd-2.log") {
        const std::string var = env("SHOPD_VAR");
        const char *plugins = std::getenv("SHOPD_PLUGINS");
        const char *cors = std::getenv("SHOPD_CORS_ORIGINS");
        std::vector<std::string> args = {
            SHOPD_HOST_BIN,
            "--listen",
            "unix:" + socket_,
            "--processes",
            "2",
            "--workers",
            "2",
            "--public-url",
            env("SHOPD_URL"),
            "--database-url",
            env("SHOPD_DATABASE_URL"),
            "--plugin-dir",
            env("SHOPD_PLUGIN_DIR"),
            "--plugins",
            plugins && *plugins ? plugins : "catalog,customers,pricing,cart,checkout",
            "--admin-token-file",
            var + "/run/admin-tokens",
            "--generation-dir",
            dir + "/generations"};
        if (cors && *cors) {
            args.push_back("--cors-origins");
            args.push_back(cors);
        }
        std::vector<char *> argv;
        for (auto &a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            ::setsid();
            const int in = ::open("/dev/null", O_RDONLY);
            const int out = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (in >= 0) ::dup2(in, 0);
            if (out >= 0) {
                ::dup2(out, 1);
                ::dup2(out, 2);
            }
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        // Up when its socket exists (the master binds it before forking workers).
        for (int i = 0; i < 200; ++i) {
            struct stat st {};
            if (::stat(socket_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) return;
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = 0;
                throw std::runtime_error("second host exited at start: " + read_file(log_));
            }
            sleep_ms(50);
        }
        kill_group();
        throw std::runtime_error("second host made no socket in 10 s: " + read_file(log_));
    }
    ~SecondHost() { kill_group(); }
    SecondHost(const SecondHost &) = delete;
    SecondHost &operator=(const SecondHost &) = delete;

    const std::string &socket() const { return socket_; }
    const std::string &log() const { return log_; }

    /// kill -9 of the master and every worker (the process group); returns when none is left.
    /// Returns false if the group was still there after 10 s.
    bool kill_group() {
        if (pid_ <= 0) return true;
        ::kill(-pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        // The workers were reparented; they are gone once the group is empty.
        bool gone = false;
        for (int i = 0; i < 200 && !gone; ++i) {
            gone = ::kill(-pid_, 0) != 0 && errno == ESRCH;
            if (!gone) sleep_ms(50);
        }
        pid_ = 0;
        return gone;
    }

private:
    std::string socket_, log_;
    pid_t pid_ = 0;
};

/// An nginx of the test's own, rendered by scripts/lib.sh nginx_start over `sockets`
/// (space-separated), in `dir`; stopped on destruction.
class OwnNginx {
public:
    OwnNginx(const std::string &dir, const std::string &sockets) : dir_(dir) {
        const std::string cmd =
            "cd / && env SHOPD_NGINX_ACCESS_LOG=off bash -c 'set -euo pipefail;"
            " source \"$SHOPD_REPO/scripts/lib.sh\";"
            " port=$(free_port \"$(nginx_port \"$SHOPD_VAR\")\");"
            " nginx_start \"$1\" \"$port\" \"$2\" 8; echo \"$port\" >\"$1/port\"' _ '" +
            dir_ + "' '" + sockets + "'";
        if (std::system(cmd.c_str()) != 0)
            throw std::runtime_error("could not start an nginx: " + cmd);
        std::ifstream in(dir_ + "/port");
        in >> port_;
        if (port_ <= 0) {
            stop();
            throw std::runtime_error("nginx wrote no port");
        }
    }
    ~OwnNginx() { stop(); }
    OwnNginx(const OwnNginx &) = delete;
    OwnNginx &operator=(const OwnNginx &) = delete;

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    std::string error_log() const { return read_file(dir_ + "/log/nginx-error.log"); }

private:
    void stop() {
        const std::string cmd =
            "cd / && bash -c 'source \"$SHOPD_REPO/scripts/lib.sh\";"
            " nginx_stop \"$1\"' _ '" +
            dir_ + "'";
        if (std::system(cmd.c_str()) != 0) {
            // Nothing to do in a destructor.
        }
    }

    std::string dir_;
    int port_ = 0;
};

/// An Http client of `url` instead of $SHOPD_URL (Http reads it when constructed). Call from
/// the main thread only: setenv is not thread-safe.
std::unique_ptr<Http> http_to(const std::string &url) {
    const std::string saved = env("SHOPD_URL");
    ::setenv("SHOPD_URL", url.c_str(), 1);
    auto http = std::make_unique<Http>();
    ::setenv("SHOPD_URL", saved.c_str(), 1);
    return http;
}

Response checkout(Http &http, const std::string &token, const std::string &key) {
    return http.request("POST", "/api/cart/checkout/", "", token, {{"Idempotency-Key", key}});
}

void add_to_cart(Http &http, const std::string &token, long long variant) {
    const auto r =
        http.post("/api/cart/items/",
                  "{\"variant_id\":" + std::to_string(variant) + ",\"quantity\":1}", token);
    CPPUNIT_ASSERT_MESSAGE(r.describe(), r.status == 201 || r.status == 200);
}

long long reserved_of(Http &http, long long variant) {
    const auto r = http.get("/api/variants/" + std::to_string(variant) + "/");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
    return r.json()["reserved"].GetInt64();
}

long long reservations_of(long long customer) {
    pqxx::connection db(env("SHOPD_DATABASE_URL"));
    pqxx::nontransaction tx(db);
    return tx.exec_params1("SELECT count(*) FROM reservations WHERE customer_id = $1", customer)[0]
        .as<long long>();
}

}  // namespace

class HostsITest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(HostsITest);
    CPPUNIT_TEST(killedHostFailsNoGetAndCheckoutRetryReservesOnce);
    CPPUNIT_TEST_SUITE_END();

public:
    void killedHostFailsNoGetAndCheckoutRetryReservesOnce() {
        TempDir dir;
        SecondHost host2(dir.path());
        const std::string stack_socket = env("SHOPD_VAR") + "/run/shopd.sock";
        // nginx over host 2 alone: proves host 2 serves, later answers 502 once it is dead.
        OwnNginx only2(dir.path() + "/nginx-2", host2.socket());
        OwnNginx both(dir.path() + "/nginx-both", stack_socket + " " + host2.socket());
        {
            auto http = http_to(only2.url());
            Response r;
            for (int i = 0; i < 100; ++i) {
                r = http->get("/healthz");
                if (r.status == 200) break;
                sleep_ms(100);
            }
            CPPUNIT_ASSERT_EQUAL_MESSAGE("host 2 never answered: " + read_file(host2.log()), 200L,
                                         r.status);
        }

        // Fixtures through the stack's own nginx (host 1 only): unaffected by the kill.
        Http stack;
        const auto customer = new_customer_with_id(stack);
        const long long variant = new_product(stack, {{"0.00", 100000}}, "hosts").variants[0];

        // GET load: 4 threads, ~5 s, through both hosts; host 2 is killed at ~1.5 s.
        constexpr int kThreads = 4;
        std::vector<std::unique_ptr<Http>> clients;
        for (int i = 0; i < kThreads; ++i) clients.push_back(http_to(both.url()));
        auto checkout_http = http_to(both.url());
        std::atomic<long> sent{0}, failed{0};
        std::mutex mu;
        std::string first_failure;
        const auto end = Clock::now() + std::chrono::seconds(5);
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                while (Clock::now() < end) {
                    Response r;
                    try {
                        r = clients[t]->get("/api/products/?page_size=1");
                    } catch (const std::exception &e) {
                        r.status = 0;
                        r.body = e.what();
                    }
                    ++sent;
                    if (r.status != 200) {
                        ++failed;
                        std::lock_guard<std::mutex> lock(mu);
                        if (first_failure.empty()) first_failure = r.describe();
                    }
                }
            });
        }
        // Meanwhile one client checks out one unit at a time, each under a fresh key, retrying
        // a failed attempt with the same key (a 502 of a request cut by the kill, or a 409 while
        // the dead attempt's transaction is still being rolled back).
        long long orders = 0, retried = 0;
        std::string checkout_failure;
        std::thread checkouts([&] {
            while (Clock::now() < end && checkout_failure.empty()) {
                const std::string key = unique("hosts-key");
                try {
                    add_to_cart(stack, customer.token, variant);
                } catch (const std::exception &e) {
                    checkout_failure = std::string("add to cart: ") + e.what();
                    break;
                } catch (...) {
                    checkout_failure = "add to cart failed";
                    break;
                }
                Response r;
                for (int attempt = 0; attempt < 20; ++attempt) {
                    try {
                        r = checkout(*checkout_http, customer.token, key);
                    } catch (const std::exception &e) {
                        r.status = 0;
                        r.body = e.what();
                    }
                    if (r.status == 201) break;
                    ++retried;
                    sleep_ms(100);
                }
                if (r.status != 201) {
                    checkout_failure = "checkout never succeeded: " + r.describe();
                    break;
                }
                ++orders;
            }
        });
        sleep_ms(1500);
        CPPUNIT_ASSERT_MESSAGE("host 2's process group outlived kill -9", host2.kill_group());
        for (auto &th : threads) th.join();
        checkouts.join();

        CPPUNIT_ASSERT_MESSAGE(checkout_failure, checkout_failure.empty());
        CPPUNIT_ASSERT_MESSAGE(std::to_string(sent.load()) + " GETs sent", sent.load() >= 200);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(std::to_string(failed.load()) + " of " +
                                         std::to_string(sent.load()) +
                                         " GETs failed, first: " + first_failure,
                                     0L, failed.load());
        // nginx did meet the dead host (and so retried elsewhere): its error log names it.
        CPPUNIT_ASSERT_MESSAGE("nginx never tried the killed host",
                               both.error_log().find(host2.socket()) != std::string::npos);

        // Deterministic failure: the checkout through host 2 alone fails (host 2 is dead);
        // the client retries with the same key through both hosts: reserved exactly once, and
        // a second retry is a replay of the same reservation.
        add_to_cart(stack, customer.token, variant);
        const std::string key = unique("hosts-retry");
        {
            auto dead = http_to(only2.url());
            const auto r = checkout(*dead, customer.token, key);
            CPPUNIT_ASSERT_MESSAGE(r.describe(), r.status >= 500);
        }
        const auto first = checkout(*checkout_http, customer.token, key);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(first.describe(), 201L, first.status);
        CPPUNIT_ASSERT_EQUAL(std::string(""), first.header("Idempotent-Replayed"));
        const auto again = checkout(*checkout_http, customer.token, key);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(again.describe(), 201L, again.status);
        CPPUNIT_ASSERT_EQUAL(std::string("true"), again.header("Idempotent-Replayed"));
        CPPUNIT_ASSERT_EQUAL(first.json()["id"].GetInt64(), again.json()["id"].GetInt64());
        ++orders;

        // One reservation of one unit per key, whatever the kill cut.
        CPPUNIT_ASSERT_EQUAL_MESSAGE(std::to_string(retried) + " retried attempts", orders,
                                     reservations_of(customer.id));
        CPPUNIT_ASSERT_EQUAL(orders, reserved_of(stack, variant));
        std::printf("hosts_itest: %ld GETs, %ld failed; %lld checkouts, %lld retried attempts\n",
                    sent.load(), failed.load(), orders, retried);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HostsITest);
