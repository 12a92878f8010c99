// Integration test of several host masters behind one nginx upstream (scripts/stack up --hosts N
// in small): the test starts a second host master itself (same database, plugin dir and admin
// token file as the running stack, its own socket, in a process group of its own) and a second
// nginx rendered by scripts/lib.sh's nginx_start over both sockets. Killing the second host's
// whole process group (master and workers, kill -9) under GET load must fail no GET: nginx
// retries them on the other entries of the upstream. A checkout that failed is retried by the
// client with the same Idempotency-Key and must reserve exactly once.
#include "http_client.hpp"
#include "own_stack.hpp"
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

using namespace shopd::test;

namespace {

using Clock = std::chrono::steady_clock;

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

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
        std::vector<std::string> flags = {"--processes",   "2", "--workers", "2", "--public-url",
                                          env("SHOPD_URL")};
        if (const char *cors = std::getenv("SHOPD_CORS_ORIGINS"); cors && *cors)
            flags.insert(flags.end(), {"--cors-origins", cors});
        OwnHost host2(flags);
        const std::string stack_socket = env("SHOPD_VAR") + "/run/shopd.sock";
        // nginx over host 2 alone: proves host 2 serves, later answers 502 once it is dead.
        OwnNginx only2("", host2.socket());
        OwnNginx both("", stack_socket + " " + host2.socket());
        {
            auto http = http_to(only2.url());
            Response r;
            for (int i = 0; i < 100; ++i) {
                r = http->get("/healthz");
                if (r.status == 200) break;
                sleep_ms(100);
            }
            CPPUNIT_ASSERT_EQUAL_MESSAGE("host 2 never answered: " + host2.log(), 200L, r.status);
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
        CPPUNIT_ASSERT_MESSAGE("host 2's process group outlived kill -9", host2.kill_all());
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
