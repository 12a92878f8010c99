// Integration tests of nginx in front of the host (nginx/shopd.conf.template): nginx's own
// errors are problem+json with an X-Request-Id, the body limit, the per-address sign-up rate
// limit and the loopback-only /readyz and /metrics.
//
// Malformed requests go over a raw socket: libcurl would normalise or refuse them. The rate
// limit and the 403 are checked on a second nginx this test starts itself from the template
// with the deployment defaults (scripts/test raises the sign-up rate of the shared stack),
// proxying to the stack's host socket.
#include "http_client.hpp"
#include "own_stack.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace shopd::test;

namespace {

/// The port of $SHOPD_URL (http://127.0.0.1:PORT).
int stack_port() {
    const std::string url = env("SHOPD_URL");
    const auto colon = url.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("SHOPD_URL has no port: " + url);
    return std::stoi(url.substr(colon + 1));
}

/// Sends `raw` as is to 127.0.0.1:port and reads the answer until the server closes.
Response raw_request(int port, const std::string &raw) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("socket() failed");
    timeval tv{};
    tv.tv_sec = 15;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
        ::close(fd);
        throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + " failed");
    }
    // nginx may answer (and close) before it has read everything: a failed send is fine.
    size_t sent = 0;
    while (sent < raw.size()) {
        const ssize_t n = ::send(fd, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<size_t>(n);
    }
    std::string in;
    char buf[16384];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);

    Response r;
    const auto end = in.find("\r\n\r\n");
    CPPUNIT_ASSERT_MESSAGE("no complete response head: " + in.substr(0, 200),
                           end != std::string::npos && in.compare(0, 5, "HTTP/") == 0);
    r.body = in.substr(end + 4);
    std::string::size_type pos = in.find("\r\n");
    r.status = std::stol(in.substr(in.find(' ') + 1, 3));
    while (pos < end) {
        const auto next = in.find("\r\n", pos + 2);
        const std::string line = in.substr(pos + 2, next - pos - 2);
        const auto colon = line.find(':');
        if (colon != std::string::npos) {
            std::string name = line.substr(0, colon);
            std::transform(name.begin(), name.end(), name.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            std::string value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            r.headers[name] = value;
        }
        pos = next;
    }
    return r;
}

/// A GET of `target` (sent verbatim) with extra raw header lines.
std::string get_request(const std::string &target, const std::string &extra = "") {
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra +
           "Connection: close\r\n\r\n";
}

std::string post_request(const std::string &target, const std::string &body) {
    return "POST " + target +
           " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

bool contains(const std::string &text, const std::string &needle) {
    return text.find(needle) != std::string::npos;
}

}  // namespace

class NginxITest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(NginxITest);
    CPPUNIT_TEST(badPercentEncodingIs400Problem);
    CPPUNIT_TEST(longUriIs414Problem);
    CPPUNIT_TEST(hugeHeaderIs400Problem);
    CPPUNIT_TEST(unknownTransferEncodingIs501Problem);
    CPPUNIT_TEST(traceIs405Problem);
    CPPUNIT_TEST(bodyOverOneMebibyteIs413FromNginx);
    CPPUNIT_TEST(requestIdOfClientOnlyWhenPlain);
    CPPUNIT_TEST(linksUseThePublicUrlNotTheClientsHost);
    CPPUNIT_TEST(hostProblemsPassThrough);
    CPPUNIT_TEST(opsRoutesAllowedFromLoopback);
    CPPUNIT_TEST(opsRoutesDeniedOutsideAllowList);
    CPPUNIT_TEST(signupBurstBeyondLimitIs429WithRetryAfter);
    CPPUNIT_TEST_SUITE_END();

public:
    void badPercentEncodingIs400Problem() {
        const int port = stack_port();
        assert_problem(raw_request(port, get_request("/api/products/%zz/")), 400, "%zz");
        assert_problem(raw_request(port, get_request("/api/products/%00/")), 400, "%00");
        assert_problem(raw_request(port, get_request("/api/products/%4/")), 400, "%4");
    }

    void longUriIs414Problem() {
        assert_problem(raw_request(stack_port(), get_request("/api/" + std::string(20000, 'a'))),
                       414, "20000-byte URI");
    }

    void hugeHeaderIs400Problem() {
        // Over large_client_header_buffers (8k): nginx's 494, answered as 400.
        assert_problem(
            raw_request(stack_port(), get_request("/api/products/",
                                                  "X-Big: " + std::string(20000, 'a') + "\r\n")),
            400, "20000-byte header");
    }

    void unknownTransferEncodingIs501Problem() {
        const std::string req =
            "POST /api/customers/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Transfer-Encoding: bogus\r\nConnection: close\r\n\r\n";
        assert_problem(raw_request(stack_port(), req), 501, "Transfer-Encoding: bogus");
    }

    void traceIs405Problem() {
        const std::string req =
            "TRACE /api/products/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        assert_problem(raw_request(stack_port(), req), 405, "TRACE");
    }

    void bodyOverOneMebibyteIs413FromNginx() {
        // Announced size over 1 MiB: refused before a byte of the body is read.
        const std::string req =
            "POST /api/customers/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nContent-Length: 1048577\r\n"
            "Connection: close\r\n\r\n";
        const auto r = raw_request(stack_port(), req);
        assert_problem(r, 413, "1 MiB + 1");
        CPPUNIT_ASSERT_MESSAGE(r.describe(), contains(r.body, "The request body is too large."));
        // Exactly 1 MiB still reaches the host (which answers it, whatever the answer is).
        Http http;
        const auto ok = http.post("/api/customers/", std::string(1024 * 1024, ' '));
        CPPUNIT_ASSERT_MESSAGE(ok.describe(), ok.status != 413 && ok.status < 500);
    }

    /// A forged Host header must not end up in the absolute links a client follows (cache
    /// poisoning, links to a phishing host): they start with the host's --public-url.
    void linksUseThePublicUrlNotTheClientsHost() {
        Http admin;
        for (int i = 0; i < 2; ++i)  // a second page exists
            CPPUNIT_ASSERT_EQUAL(
                201L, admin
                          .post("/api/categories/", R"({"name":")" + unique("links") + R"("})",
                                admin_token())
                          .status);
        // HTTP/1.0: no chunked body to decode.
        const std::string raw =
            "GET /api/categories/?page_size=1 HTTP/1.0\r\nHost: evil.example\r\n"
            "X-Forwarded-Host: evil.example\r\nConnection: close\r\n\r\n";
        const Response r = raw_request(stack_port(), raw);
        CPPUNIT_ASSERT_EQUAL(200L, r.status);
        const auto d = r.json();
        CPPUNIT_ASSERT_MESSAGE(r.body, d["next"].IsString());
        const std::string next = d["next"].GetString();
        CPPUNIT_ASSERT_MESSAGE(next, next.rfind(env("SHOPD_URL") + "/api/categories/", 0) == 0);
        CPPUNIT_ASSERT_MESSAGE(next, next.find("evil") == std::string::npos);
    }

    void requestIdOfClientOnlyWhenPlain() {
        const std::string trace =
            "TRACE / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Request-Id: ";
        auto r = raw_request(stack_port(), trace + "client-id_42.x\r\n\r\n");
        assert_problem(r, 405, "plain id");
        CPPUNIT_ASSERT_EQUAL(std::string("client-id_42.x"), r.header("X-Request-Id"));
        // Not plain: replaced by nginx's own id, never echoed (header or body).
        r = raw_request(stack_port(), trace + "evil\"}{<x> id\r\n\r\n");
        assert_problem(r, 405, "id with quotes");
        CPPUNIT_ASSERT(!contains(r.header("X-Request-Id"), "evil"));
        CPPUNIT_ASSERT(r.header("X-Request-Id").size() >= 16);
        CPPUNIT_ASSERT(!contains(r.body, "evil"));
    }

    void hostProblemsPassThrough() {
        // The host's own error bodies are not replaced (fastcgi_intercept_errors off).
        Http http;
        const auto r = http.post("/api/customers/", "{}", admin_token());
        assert_problem(r, 400, "host validation");
        assert_problem(http.post("/api/customers/", "{}"), 401, "host auth");
        CPPUNIT_ASSERT_MESSAGE(r.describe(), !contains(r.body, "The request is malformed."));
        const auto m = http.request("DELETE", "/healthz/");
        CPPUNIT_ASSERT_MESSAGE(m.describe(), m.status == 405 || m.status == 404);
        CPPUNIT_ASSERT_MESSAGE(m.describe(), !contains(m.body, "This method is not allowed here."));
    }

    void opsRoutesAllowedFromLoopback() {
        Http http;
        for (const char *path : {"/metrics", "/metrics/", "/readyz", "/readyz/", "/healthz"}) {
            const auto r = http.get(path);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(std::string(path) + ": " + r.describe(), 200L, r.status);
        }
    }

    void opsRoutesDeniedOutsideAllowList() {
        // Loopback is not on this nginx's allow-list, so the test's own address is refused.
        OwnNginx nginx("SHOPD_NGINX_OPS_ALLOW=192.0.2.1");
        for (const char *path : {"/metrics", "/metrics/", "/readyz", "/readyz/"}) {
            assert_problem(raw_request(nginx.port(), get_request(path)), 403, path);
        }
        const auto r = raw_request(nginx.port(), get_request("/healthz"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200L, r.status);
    }

    void signupBurstBeyondLimitIs429WithRetryAfter() {
        OwnNginx nginx("");  // defaults: 10r/s, burst 20, nodelay
        // Without a token the host answers 401 and creates nothing, but each POST counts: the
        // limit applies before any auth check.
        int passed = 0, limited = 0;
        for (int i = 0; i < 60; ++i) {
            const auto r = raw_request(nginx.port(), post_request("/api/customers/", "{}"));
            if (r.status == 429) {
                assert_problem(r, 429, "sign-up burst");
                CPPUNIT_ASSERT_EQUAL(std::string("1"), r.header("Retry-After"));
                ++limited;
            } else {
                CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 401L, r.status);
                ++passed;
            }
        }
        CPPUNIT_ASSERT_MESSAGE(std::to_string(passed) + " passed", passed >= 21);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(limited) + " limited", limited >= 1);
        // Same route without the trailing slash shares the limit.
        bool slashless_limited = false;
        for (int i = 0; i < 5 && !slashless_limited; ++i) {
            slashless_limited =
                raw_request(nginx.port(), post_request("/api/customers", "{}")).status == 429;
        }
        CPPUNIT_ASSERT(slashless_limited);
        // Other methods are not counted.
        CPPUNIT_ASSERT(raw_request(nginx.port(), get_request("/api/customers/")).status != 429);
        // A client that honours Retry-After gets through.
        std::this_thread::sleep_for(std::chrono::milliseconds(1100));
        const auto r = raw_request(nginx.port(), post_request("/api/customers/", "{}"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 401L, r.status);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(NginxITest);
