// Integration tests of timeouts (issue 9): what a client gets when time runs out.
//   - A client stalling mid-header or mid-body is cut off after nginx's client_header_timeout /
//     client_body_timeout (SHOPD_NGINX_CLIENT_TIMEOUT). nginx logs 408 but, for both, closes the
//     connection without sending anything (ngx_http_finalize_request terminates a request that
//     timed out): the test checks the connection closes in time with no byte of answer, so no
//     HTML error page either.
//   - A host slower than fastcgi_read_timeout (SHOPD_NGINX_READ_TIMEOUT) gets nginx's 504
//     problem+json with an X-Request-Id.
//   - A statement running past the host's statement_timeout (SHOPD_STATEMENT_TIMEOUT_MS) is
//     cancelled (57014) and answers 503 problem+json with Retry-After; the worker's connection
//     still works afterwards.
// scripts/test sets low values of the three for its stack, and loads the test-only "thrower"
// plugin (tests/plugins/thrower), whose /api/test/sleep/ and /api/test/slow-sql/ are slow on
// purpose.
#include "http_client.hpp"

#include <pqxx/pqxx>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cppunit/extensions/HelperMacros.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <regex>
#include <stdexcept>
#include <string>

using namespace shopd::test;
using Clock = std::chrono::steady_clock;

namespace {

/// The port of $SHOPD_URL (http://127.0.0.1:PORT).
int stack_port() {
    const std::string url = env("SHOPD_URL");
    const auto colon = url.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("SHOPD_URL has no port: " + url);
    return std::stoi(url.substr(colon + 1));
}

/// An nginx duration from env `name` ("2s", "500ms", "1m", "3") in ms. The test needs the low
/// values scripts/test sets (at most 10 s), so it stays bounded.
std::int64_t nginx_duration_ms(const char *name) {
    const std::string text = env(name);
    std::smatch m;
    static const std::regex re("^([0-9]+)(ms|s|m)?$");
    if (!std::regex_match(text, m, re)) throw std::runtime_error(std::string(name) + ": " + text);
    std::int64_t ms = std::stoll(m[1]);
    if (m[2] == "s" || m[2] == "") ms *= 1000;
    if (m[2] == "m") ms *= 60000;
    if (ms > 10000)
        throw std::runtime_error(std::string(name) + " is over 10 s; run through scripts/test");
    return ms;
}

std::int64_t statement_timeout_ms() {
    const std::int64_t ms = std::stoll(env("SHOPD_STATEMENT_TIMEOUT_MS"));
    if (ms > 10000)
        throw std::runtime_error(
            "SHOPD_STATEMENT_TIMEOUT_MS is over 10 s; run through scripts/test");
    return ms;
}

std::int64_t ms_since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

struct Stalled {
    std::string received;     ///< every byte nginx sent before closing
    std::int64_t elapsed_ms;  ///< from the last byte sent to the close
    bool closed;              ///< nginx closed (not our receive timeout)
};

/// Sends `partial` to nginx and then nothing more; waits (at most 15 s) until nginx closes.
Stalled send_and_stall(const std::string &partial) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("socket() failed");
    timeval tv{};
    tv.tv_sec = 15;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(stack_port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
        ::close(fd);
        throw std::runtime_error("connect to nginx failed");
    }
    if (::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(partial.size())) {
        ::close(fd);
        throw std::runtime_error("send failed");
    }
    const auto start = Clock::now();
    Stalled s{"", 0, false};
    char buf[4096];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            s.received.append(buf, static_cast<size_t>(n));
            continue;
        }
        s.closed = n == 0 || errno == ECONNRESET;
        break;
    }
    s.elapsed_ms = ms_since(start);
    ::close(fd);
    return s;
}

void assert_cut_off(const Stalled &s, std::int64_t timeout_ms, const std::string &what) {
    CPPUNIT_ASSERT_MESSAGE(what + ": nginx did not close within 15 s", s.closed);
    CPPUNIT_ASSERT_MESSAGE(what + ": nginx answered: " + s.received.substr(0, 200),
                           s.received.empty());
    CPPUNIT_ASSERT_MESSAGE(what + ": closed after " + std::to_string(s.elapsed_ms) + " ms",
                           s.elapsed_ms >= timeout_ms - 300 && s.elapsed_ms <= timeout_ms + 3000);
}

}  // namespace

class TimeoutsITest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(TimeoutsITest);
    CPPUNIT_TEST(stalledHeaderIsCutOffWithoutAnswer);
    CPPUNIT_TEST(stalledBodyIsCutOffWithoutAnswer);
    CPPUNIT_TEST(slowHostIs504Problem);
    CPPUNIT_TEST(statementTimeoutIs503ProblemAndConnectionStaysUsable);
    CPPUNIT_TEST(sessionSettingsSurviveReconnects);
    CPPUNIT_TEST_SUITE_END();

public:
    void stalledHeaderIsCutOffWithoutAnswer() {
        const auto timeout = nginx_duration_ms("SHOPD_NGINX_CLIENT_TIMEOUT");
        assert_cut_off(send_and_stall("GET /api/test/ok/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half"),
                       timeout, "half a request header");
    }

    void stalledBodyIsCutOffWithoutAnswer() {
        const auto timeout = nginx_duration_ms("SHOPD_NGINX_CLIENT_TIMEOUT");
        assert_cut_off(send_and_stall("POST /api/products/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                      "Content-Type: application/json\r\nContent-Length: 100\r\n"
                                      "\r\n{\"name\":"),
                       timeout, "half a request body");
    }

    void slowHostIs504Problem() {
        const auto timeout = nginx_duration_ms("SHOPD_NGINX_READ_TIMEOUT");
        Http http;
        const auto start = Clock::now();
        const auto r = http.get("/api/test/sleep/?ms=" + std::to_string(timeout + 1500));
        const auto elapsed = ms_since(start);
        assert_problem(r, 504, "host slower than fastcgi_read_timeout");
        CPPUNIT_ASSERT_MESSAGE("504 after " + std::to_string(elapsed) + " ms",
                               elapsed >= timeout - 300 && elapsed < timeout + 1500);
        // The host itself is fine: the next request is served.
        const auto ok = http.get("/api/test/ok/");
        CPPUNIT_ASSERT_EQUAL_MESSAGE("after the 504: " + ok.describe(), 200L, ok.status);
    }

    void statementTimeoutIs503ProblemAndConnectionStaysUsable() {
        const auto timeout = statement_timeout_ms();
        CPPUNIT_ASSERT_MESSAGE("SHOPD_NGINX_READ_TIMEOUT must exceed the statement timeout",
                               nginx_duration_ms("SHOPD_NGINX_READ_TIMEOUT") > timeout);
        Http http;
        const auto start = Clock::now();
        const auto r = http.get("/api/test/slow-sql/?ms=" + std::to_string(timeout + 2000));
        const auto elapsed = ms_since(start);
        assert_problem(r, 503, "statement past statement_timeout");
        CPPUNIT_ASSERT_MESSAGE("Retry-After: " + r.describe(), !r.header("Retry-After").empty());
        CPPUNIT_ASSERT_MESSAGE("503 after " + std::to_string(elapsed) + " ms",
                               elapsed >= timeout - 300 && elapsed < timeout + 1500);
        // The handler checked the same connection right after the cancel, before answering.
        CPPUNIT_ASSERT_EQUAL_MESSAGE("the worker's connection after the cancel",
                                     std::string("usable"), r.header("X-Thrower-Connection"));
        // And every worker (whichever got it) keeps serving SQL: more requests than workers.
        for (int i = 0; i < 40; ++i) {
            const auto ok = http.get("/api/test/sql-ok/");
            CPPUNIT_ASSERT_EQUAL_MESSAGE("sql-ok #" + std::to_string(i) + ": " + ok.describe(),
                                         200L, ok.status);
        }
    }

    /// lock_timeout, statement_timeout and idle_in_transaction_session_timeout come with every
    /// worker connection (libpq options in the startup packet), also after the server dropped
    /// them all: every backend of the application role but ours is terminated, and the
    /// reconnected workers report the same settings.
    void sessionSettingsSurviveReconnects() {
        Http http;
        const auto settings = [&http](const char *when) {
            const auto r = http.get("/api/test/sql-ok/");
            CPPUNIT_ASSERT_EQUAL_MESSAGE(std::string(when) + ": " + r.body, 200L, r.status);
            const auto d = r.json();
            return std::string(d["lock_timeout"].GetString()) + " " +
                   d["statement_timeout"].GetString() + " " +
                   d["idle_in_transaction_session_timeout"].GetString() + " " +
                   d["jit"].GetString();
        };
        const std::string expected = "2s " + std::to_string(statement_timeout_ms() / 1000) + "s " +
                                     std::to_string(statement_timeout_ms() / 1000) + "s off";
        CPPUNIT_ASSERT_EQUAL(expected, settings("before"));
        pqxx::connection db(env("SHOPD_DATABASE_URL"));
        pqxx::nontransaction tx(db);
        const auto killed =
            tx.exec(
                  "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                  "WHERE usename = current_user AND pid <> pg_backend_pid() "
                  "AND backend_type = 'client backend'")[0][0]
                .as<int>();
        CPPUNIT_ASSERT_MESSAGE("no worker connection to terminate", killed >= 1);
        for (int i = 0; i < 20; ++i) CPPUNIT_ASSERT_EQUAL(expected, settings("after"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TimeoutsITest);
