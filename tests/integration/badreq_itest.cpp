// Black-box robustness test (issue 9): >= 10,000 generated bad requests through the stack's
// nginx ($SHOPD_URL) against every write route and the list GETs: broken JSON, wrong types, huge
// numbers, unicode and invalid UTF-8, SQL-looking strings, oversize bodies and headers, bad
// percent-encodings and %00, wrong and odd methods, bad bearer tokens, bad Idempotency-Keys.
//
// Asserts: no answer >= 500; every answer >= 400 is application/problem+json with "status" equal
// to the HTTP status and a "title"; no write route answers 2xx; and every table of the public
// schema has the same contents (md5 of its rows) before and after. Every generated request must
// therefore fail: with a credential the route accepts, an object body always carries a field of
// the wrong type ("poison"), and deletes, token rotations, confirms and cancels only name ids
// that do not exist. Valid customer tokens are never sent to GET routes (GET /api/cart/ writes).
//
// Request i is generated from a PRNG seeded with (seed, i) only, so a failure replays with the
// seed and index printed: SHOPD_BADREQ_SEED and SHOPD_BADREQ_COUNT override the defaults, and
// SHOPD_BADREQ_BISECT=1 (one thread, slow) names the first request that changed the database.
#include "http_client.hpp"
#include "store_fixtures.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cppunit/extensions/HelperMacros.h>
#include <rapidjson/document.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace shopd::test;

namespace {

constexpr std::uint64_t kDefaultSeed = 0x5eed0009badULL;
constexpr long kDefaultCount = 12000;
constexpr int kThreads = 4;

// ---------------------------------------------------------------------------------------------
// Deterministic PRNG (splitmix64).

class Rng {
public:
    explicit Rng(std::uint64_t seed) : s_(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
    bool chance(int percent) { return below(100) < static_cast<std::size_t>(percent); }
    template <class T>
    const T &pick(const std::vector<T> &v) {
        return v[below(v.size())];
    }

private:
    std::uint64_t s_;
};

// ---------------------------------------------------------------------------------------------
// Raw HTTP/1.1 over keep-alive sockets.

int stack_port() {
    const std::string url = env("SHOPD_URL");
    const auto colon = url.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("SHOPD_URL has no port: " + url);
    return std::stoi(url.substr(colon + 1));
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

class Conn {
public:
    explicit Conn(int port) : port_(port) {}
    ~Conn() { close(); }
    Conn(const Conn &) = delete;
    Conn &operator=(const Conn &) = delete;

    /// Sends `raw` and reads one response. `fresh`: on a new connection, closed afterwards.
    /// A reused connection the server closed in between is retried once on a new one.
    Response roundtrip(const std::string &raw, bool fresh) {
        if (fresh) close();
        const bool reused = fd_ >= 0;
        try {
            return once(raw);
        } catch (const std::exception &) {
            close();
            if (!reused || !nothing_read_) throw;
        }
        return once(raw);
    }

private:
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        buf_.clear();
    }

    void connect() {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) throw std::runtime_error("socket() failed");
        timeval tv{};
        tv.tv_sec = 20;
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<uint16_t>(port_));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
            close();
            throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port_) + " failed");
        }
    }

    /// Reads more bytes into buf_; false at EOF or error.
    bool fill() {
        char tmp[65536];
        const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
        if (n <= 0) return false;
        buf_.append(tmp, static_cast<size_t>(n));
        nothing_read_ = false;
        return true;
    }

    Response once(const std::string &raw) {
        nothing_read_ = true;
        if (fd_ < 0) connect();
        // nginx may answer (413, 400) and stop reading before the end: a failed send is fine.
        size_t sent = 0;
        while (sent < raw.size()) {
            const ssize_t n = ::send(fd_, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) break;
            sent += static_cast<size_t>(n);
        }
        std::string::size_type end;
        while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
            if (!fill()) throw std::runtime_error("connection closed before a response head");
        if (buf_.compare(0, 5, "HTTP/") != 0)
            throw std::runtime_error("not an HTTP response: " + buf_.substr(0, 100));
        Response r;
        r.status = std::stol(buf_.substr(buf_.find(' ') + 1, 3));
        std::string::size_type pos = buf_.find("\r\n");
        while (pos < end) {
            const auto next = buf_.find("\r\n", pos + 2);
            const std::string line = buf_.substr(pos + 2, next - pos - 2);
            const auto colon = line.find(':');
            if (colon != std::string::npos) {
                std::string value = line.substr(colon + 1);
                value.erase(0, value.find_first_not_of(' '));
                r.headers[lower(line.substr(0, colon))] = value;
            }
            pos = next;
        }
        buf_.erase(0, end + 4);
        bool close_after = lower(r.header("connection")) == "close";
        if (lower(r.header("transfer-encoding")).find("chunked") != std::string::npos) {
            for (;;) {
                std::string::size_type eol;
                while ((eol = buf_.find("\r\n")) == std::string::npos)
                    if (!fill()) throw std::runtime_error("closed inside a chunked body");
                const size_t len = std::stoul(buf_.substr(0, eol), nullptr, 16);
                while (buf_.size() < eol + 2 + len + 2)
                    if (!fill()) throw std::runtime_error("closed inside a chunk");
                r.body += buf_.substr(eol + 2, len);
                buf_.erase(0, eol + 2 + len + 2);
                if (len == 0) break;  // no trailers are sent by nginx here
            }
        } else if (!r.header("content-length").empty()) {
            const size_t len = std::stoul(r.header("content-length"));
            while (buf_.size() < len)
                if (!fill()) throw std::runtime_error("closed inside a body");
            r.body = buf_.substr(0, len);
            buf_.erase(0, len);
        } else if (r.status != 204 && r.status != 304) {
            while (fill()) {}
            r.body = buf_;
            buf_.clear();
            close_after = true;
        }
        if (close_after) close();
        return r;
    }

    int port_;
    int fd_ = -1;
    std::string buf_;
    bool nothing_read_ = true;
};

// ---------------------------------------------------------------------------------------------
// The routes and the generator.

enum class Auth { Public, Admin, Customer };
/// What makes an object body invalid for the route even with a good credential.
enum class Poison { Category, Product, Variant, Inventory, Rule, Customer, CartItem, None };
enum class IdKind { Category, Product, Variant, Rule, Customer, CartItem, Reservation, None };

struct Route {
    std::string method;
    std::string path;  ///< "{id}" is replaced by an id
    Auth auth;
    Poison poison;
    IdKind id;
    bool destructive;     ///< with a good credential, only ids that do not exist
    std::string allowed;  ///< methods the path answers, for "method not allowed" requests
};

const std::vector<Route> &write_routes() {
    static const std::vector<Route> r = {
        {"POST", "/api/categories/", Auth::Admin, Poison::Category, IdKind::None, false,
         "GET POST"},
        {"PUT", "/api/categories/{id}/", Auth::Admin, Poison::Category, IdKind::Category, false,
         "GET PUT PATCH DELETE"},
        {"PATCH", "/api/categories/{id}/", Auth::Admin, Poison::Category, IdKind::Category, false,
         "GET PUT PATCH DELETE"},
        {"DELETE", "/api/categories/{id}/", Auth::Admin, Poison::None, IdKind::Category, true,
         "GET PUT PATCH DELETE"},
        {"POST", "/api/products/", Auth::Admin, Poison::Product, IdKind::None, false, "GET POST"},
        {"PUT", "/api/products/{id}/", Auth::Admin, Poison::Product, IdKind::Product, false,
         "GET PUT PATCH DELETE"},
        {"PATCH", "/api/products/{id}/", Auth::Admin, Poison::Product, IdKind::Product, false,
         "GET PUT PATCH DELETE"},
        {"DELETE", "/api/products/{id}/", Auth::Admin, Poison::None, IdKind::Product, true,
         "GET PUT PATCH DELETE"},
        {"POST", "/api/variants/", Auth::Admin, Poison::Variant, IdKind::None, false, "GET POST"},
        {"PUT", "/api/variants/{id}/", Auth::Admin, Poison::Variant, IdKind::Variant, false,
         "GET PUT PATCH DELETE"},
        {"PATCH", "/api/variants/{id}/", Auth::Admin, Poison::Variant, IdKind::Variant, false,
         "GET PUT PATCH DELETE"},
        {"DELETE", "/api/variants/{id}/", Auth::Admin, Poison::None, IdKind::Variant, true,
         "GET PUT PATCH DELETE"},
        {"PUT", "/api/variants/{id}/inventory/", Auth::Admin, Poison::Inventory, IdKind::Variant,
         false, "PUT"},
        {"POST", "/api/pricing/rules/", Auth::Admin, Poison::Rule, IdKind::None, false, "GET POST"},
        {"PATCH", "/api/pricing/rules/{id}/", Auth::Admin, Poison::Rule, IdKind::Rule, false,
         "PATCH DELETE"},
        {"DELETE", "/api/pricing/rules/{id}/", Auth::Admin, Poison::None, IdKind::Rule, true,
         "PATCH DELETE"},
        {"POST", "/api/customers/", Auth::Public, Poison::Customer, IdKind::None, false,
         "GET POST"},
        {"PATCH", "/api/customers/{id}/", Auth::Admin, Poison::Customer, IdKind::Customer, false,
         "GET PATCH"},
        {"POST", "/api/customers/{id}/token/", Auth::Admin, Poison::None, IdKind::Customer, true,
         "POST"},
        {"POST", "/api/customers/me/token/", Auth::Customer, Poison::None, IdKind::None, true,
         "POST"},
        {"POST", "/api/cart/items/", Auth::Customer, Poison::CartItem, IdKind::None, true, "POST"},
        {"PATCH", "/api/cart/items/{id}/", Auth::Customer, Poison::CartItem, IdKind::CartItem, true,
         "PATCH DELETE"},
        {"DELETE", "/api/cart/items/{id}/", Auth::Customer, Poison::None, IdKind::CartItem, true,
         "PATCH DELETE"},
        {"POST", "/api/cart/checkout/", Auth::Customer, Poison::None, IdKind::None, false, "POST"},
        {"POST", "/api/reservations/{id}/confirm/", Auth::Customer, Poison::None,
         IdKind::Reservation, true, "POST"},
        {"POST", "/api/reservations/{id}/cancel/", Auth::Customer, Poison::None,
         IdKind::Reservation, true, "POST"},
        {"POST", "/api/admin/plugins/reload/", Auth::Admin, Poison::None, IdKind::None, true,
         "POST"},
    };
    return r;
}

struct GetRoute {
    std::string path;
    IdKind id;
};

const std::vector<GetRoute> &get_routes() {
    static const std::vector<GetRoute> r = {
        {"/api/categories/", IdKind::None},
        {"/api/products/", IdKind::None},
        {"/api/variants/", IdKind::None},
        {"/api/pricing/rules/", IdKind::None},
        {"/api/customers/", IdKind::None},
        {"/api/reservations/", IdKind::None},
        {"/api/categories/{id}/", IdKind::Category},
        {"/api/products/{id}/", IdKind::Product},
        {"/api/variants/{id}/", IdKind::Variant},
        {"/api/pricing/{id}/price/", IdKind::Product},
        {"/api/customers/{id}/", IdKind::Customer},
        {"/api/reservations/{id}/", IdKind::Reservation},
        {"/api/cart/", IdKind::None},
        {"/api/admin/plugins/", IdKind::None},
    };
    return r;
}

const std::vector<std::string> kSqlish = {"'; DROP TABLE products; --",
                                          "1 OR 1=1",
                                          "\" OR \"\"=\"",
                                          "1; SELECT pg_sleep(5)",
                                          "$$; DELETE FROM customers; $$",
                                          "' UNION SELECT token_hash FROM customers --",
                                          "%27%3B%20DROP%20TABLE%20x",
                                          "\\x00\\\\'",
                                          "admin'--",
                                          "1/*comment*/"};

const std::vector<std::string> kUnicode = {"\xc3\xa9t\xc3\xa9",                 // été
                                           "\xf0\x9f\x9b\x92\xf0\x9f\x92\xa5",  // emoji
                                           "\xe2\x80\xae\x64\x6c\x72\x6f\x77",  // RLO
                                           "\xef\xbb\xbf"
                                           "bom",  // BOM
                                           "\\u0000nul",
                                           "\\ud800lone",
                                           "\\udfff\\ud800",
                                           "a\\u0000b",
                                           "\xe5\xad\x97\xe4\xbd\x93",  // CJK
                                           "\xcc\x81\xcc\x81\xcc\x81zalgo"};

const std::vector<std::string> kInvalidUtf8 = {
    "\xff\xfe", "\xc0\xaf", "\xed\xa0\x80", "\xf8\x88\x80\x80\x80",
    "\x80",     "\xe2\x82", "\xc3\x28",     "\xf4\x90\x80\x80"};

const std::vector<std::string> kHugeNumbers = {"1e999",
                                               "-1e999",
                                               "99999999999999999999999999",
                                               "-99999999999999999999",
                                               "9223372036854775808",
                                               "-9223372036854775809",
                                               "1.7976931348623157e309",
                                               "0.0000000000000000000000001",
                                               "1e-999",
                                               "4294967296",
                                               "2147483648",
                                               "-0",
                                               "00012",
                                               "1.",
                                               ".5",
                                               "0x10",
                                               "NaN",
                                               "Infinity",
                                               "-Infinity",
                                               "1e308"};

const std::vector<std::string> kBrokenJson = {"{",
                                              "}",
                                              "{\"name\":",
                                              "{\"name\":\"x\"",
                                              "{\"name\" \"x\"}",
                                              "{'name':'x'}",
                                              "{name:x}",
                                              "{\"name\":\"x\",}",
                                              "[1,2",
                                              "\"unterminated",
                                              "{\"a\":1}{\"b\":2}",
                                              "nul",
                                              "tru",
                                              "{\"\\q\":1}",
                                              "{\"name\":\"\\u12\"}",
                                              "{\"a\":[[[[[[[[[[[[[[[[[[[[",
                                              "\x00{}",
                                              "{}garbage",
                                              "{\"a\":01}",
                                              "{\"a\":+1}",
                                              "// comment\n{}",
                                              "{\"a\":\"tab\there\"}",
                                              "\xef\xbb\xbf{\"name\":",
                                              ""};

const std::vector<std::string> kNonObject = {
    "[]",    "[{\"name\":\"x\"}]", "null", "true", "42", "\"string\"", "-1", "1e999", "[null]",
    "\"{}\""};

/// Values of the wrong type or out of range for the field the route requires.
// Not numbers (the SDK parses numbers as strings: {"name": 123} is the name "123", as in DRF)
// nor null (absent in a PATCH).
const std::vector<std::string> kBadString = {"\"\"",  "[]",      "{}",        "true",
                                             "false", "[\"x\"]", "{\"x\":1}", "[null]"};
const std::vector<std::string> kBadQuantity = {"-1",
                                               "\"abc\"",
                                               "[]",
                                               "{}",
                                               "true",
                                               "1e999",
                                               "1.5",
                                               "-9223372036854775809",
                                               "99999999999999999999",
                                               "-2147483649"};
const std::vector<std::string> kBadPercent = {"\"abc\"", "101",     "\"100.001\"", "-5",
                                              "\"-1\"",  "[]",      "{}",          "true",
                                              "1e999",   "\"NaN\"", "150.5"};

std::string garbage_value(Rng &rng) {
    switch (rng.below(8)) {
    case 0: return "\"" + rng.pick(kSqlish) + "\"";
    case 1: return "\"" + rng.pick(kUnicode) + "\"";
    case 2: return "\"" + rng.pick(kInvalidUtf8) + "\"";
    case 3: return rng.pick(kHugeNumbers);
    case 4: return rng.pick(kNonObject);
    case 5: return "\"" + std::string(rng.below(3000), 'x') + "\"";
    case 6: return "{\"$gt\":\"\"}";
    default: return "\"" + std::to_string(rng.next()) + "\"";
    }
}

const std::vector<std::string> kFieldNames = {"name",
                                              "parent_id",
                                              "category_id",
                                              "base_price",
                                              "description",
                                              "sku",
                                              "product_id",
                                              "price_delta",
                                              "stock",
                                              "kind",
                                              "percent_off",
                                              "min_quantity",
                                              "tier",
                                              "customer_id",
                                              "valid_from",
                                              "valid_until",
                                              "quantity",
                                              "variant_id",
                                              "id",
                                              "token",
                                              "variants",
                                              "\xff\xfe",
                                              "",
                                              "__proto__"};

/// The field (name and bad value) that makes an object body fail for `p`; "" for Poison::None.
std::string poison_member(Rng &rng, Poison p) {
    switch (p) {
    case Poison::Category:
    case Poison::Product:
        return rng.chance(80) ? "\"name\":" + rng.pick(kBadString)
                              : "\"name\":\"" + std::string(201 + rng.below(500), 'n') + "\"";
    case Poison::Variant:
        return rng.chance(80) ? "\"sku\":" + rng.pick(kBadString)
                              : "\"sku\":\"" + std::string(65 + rng.below(500), 's') + "\"";
    case Poison::Inventory: return "\"stock\":" + rng.pick(kBadQuantity);
    case Poison::Rule: return "\"percent_off\":" + rng.pick(kBadPercent);
    case Poison::Customer:
        return rng.chance(50) ? "\"name\":" + rng.pick(kBadString)
                              : "\"tier\":" + std::string(rng.chance(50) ? "\"DIAMOND\"" : "5");
    case Poison::CartItem: return "\"quantity\":" + rng.pick(kBadQuantity);
    case Poison::None: return "";
    }
    return "";
}

/// An object body: garbage members around the poison (the poison is last, so it wins over a
/// duplicate key whichever way the parser takes duplicates: see the duplicate check below).
std::string object_body(Rng &rng, Poison p, bool need_poison) {
    std::string poison = need_poison ? poison_member(rng, p) : "";
    std::string poison_key = poison.substr(0, poison.find(':'));
    std::string out = "{";
    const size_t n = rng.below(6);
    for (size_t i = 0; i < n; ++i) {
        const std::string key = "\"" + rng.pick(kFieldNames) + "\"";
        if (!poison_key.empty() && key == poison_key) continue;  // no duplicate of the poison
        if (out.size() > 1) out += ",";
        out += key + ":" + garbage_value(rng);
    }
    if (!poison.empty()) {
        if (out.size() > 1) out += ",";
        out += poison;
    }
    return out + "}";
}

std::string url_escape_bytes(const std::string &s) {
    static const char *hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

struct Ids {
    std::map<IdKind, long long> existing;  ///< one existing id per kind (0 = none)
};

/// An id segment: `exists` allowed -> sometimes a real id.
std::string id_segment(Rng &rng, const Ids &ids, IdKind kind, bool may_exist) {
    if (may_exist && rng.chance(40)) {
        const auto it = ids.existing.find(kind);
        if (it != ids.existing.end() && it->second > 0) return std::to_string(it->second);
    }
    static const std::vector<std::string> bad = {"0",
                                                 "-1",
                                                 "abc",
                                                 "1.5",
                                                 "1e3",
                                                 "99999999999999999999",
                                                 "9223372036854775807",
                                                 "9223372036854775808",
                                                 "%00",
                                                 "1%00",
                                                 "%ZZ",
                                                 "%",
                                                 "%2e%2e",
                                                 "..",
                                                 "%2F",
                                                 "1;2",
                                                 "1%20",
                                                 "%C0%AF",
                                                 "%FF",
                                                 "%E2%80%AE1",
                                                 "%27%20OR%201%3D1",
                                                 "0x1",
                                                 "+1",
                                                 "",
                                                 "1,2",
                                                 "NaN"};
    if (rng.chance(50))
        return std::to_string(2000000000LL + static_cast<long long>(rng.below(1000000000)));
    return rng.pick(bad);
}

std::string fill_id(const std::string &path, const std::string &id) {
    const auto p = path.find("{id}");
    if (p == std::string::npos) return path;
    return path.substr(0, p) + id + path.substr(p + 4);
}

const std::vector<std::string> kBadTokens = {
    "",
    "x",
    "null",
    "undefined",
    "Bearer",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff0",
    "' OR '1'='1",
    "%00",
    "\xff\xfe\xfd",
    "\xc3\xa9\xc3\xa9",
    "a b c",
    "tok\tab",
    "../../etc/passwd"};

struct Generated {
    std::string raw;
    bool fresh = false;  ///< send on its own connection (oversize, broken framing)
    bool write = false;  ///< 2xx would be a failure
    std::string what;
};

struct Config {
    std::string admin;
    std::string customer;
    Ids ids;
};

/// An Authorization header (or none) for a route that wants `want`. `cred`: a real token of
/// either role is in it (or the route is public), so the request might be allowed to act.
std::string auth_header(Rng &rng, const Config &cfg, Auth want, bool &cred) {
    cred = want == Auth::Public;
    const size_t r = rng.below(100);
    if (r < 30) {
        // The credential the route accepts (the public route takes anything).
        if (want == Auth::Admin) {
            cred = true;
            return "Authorization: Bearer " + cfg.admin + "\r\n";
        }
        if (want == Auth::Customer) {
            cred = true;
            return "Authorization: Bearer " + cfg.customer + "\r\n";
        }
        cred = true;
        return "";
    }
    if (r < 40) {  // the other role's token
        cred = true;
        if (want == Auth::Admin) return "Authorization: Bearer " + cfg.customer + "\r\n";
        return "Authorization: Bearer " + cfg.admin + "\r\n";
    }
    if (r < 55) return "";
    if (r < 65) return "Authorization: Basic YWRtaW46YWRtaW4=\r\n";
    if (r < 70) return "Authorization: bearer" + std::string(rng.chance(50) ? "" : "  ") + "\r\n";
    if (r < 75)  // a good token mangled
        return "Authorization: Bearer " + cfg.admin.substr(0, cfg.admin.size() - 1) + "\r\n";
    if (r < 80) return "Authorization: Bearer " + cfg.admin + "x\r\n";
    if (r < 85) return "Authorization: Bearer " + std::string(300 + rng.below(5000), 'a') + "\r\n";
    if (r < 90) {  // the server may take either of two Authorization headers
        cred = true;
        return "Authorization: Bearer " + cfg.admin + "\r\nAuthorization: Bearer " +
               rng.pick(kBadTokens) + "\r\n";
    }
    return "Authorization: Bearer " + rng.pick(kBadTokens) + "\r\n";
}

std::string extra_headers(Rng &rng, Generated &g) {
    std::string h;
    const size_t r = rng.below(100);
    if (r < 3) {
        h += "X-Huge: " + std::string(9000 + rng.below(20000), 'h') + "\r\n";  // > 8k buffer
        g.fresh = true;
        g.what += " huge-header";
    } else if (r < 5) {
        for (int i = 0; i < 200; ++i)
            h += "X-Many-" + std::to_string(i) + ": " + std::string(200, 'm') + "\r\n";
        g.fresh = true;
        g.what += " many-headers";
    } else if (r < 10) {
        h += "X-Request-Id: " + rng.pick(kSqlish) + "\r\n";
    } else if (r < 13) {
        h += "X-Utf8: " + rng.pick(kInvalidUtf8) + "\r\n";
    } else if (r < 16) {
        h += "If-None-Match: \"" + rng.pick(kUnicode) + "\"\r\n";
    }
    return h;
}

std::string query_string(Rng &rng) {
    static const std::vector<std::string> parts = {"page=-1",
                                                   "page=0",
                                                   "page=abc",
                                                   "page=99999999999999999999",
                                                   "page=1e999",
                                                   "page=",
                                                   "page_size=abc",
                                                   "page_size=0",
                                                   "page_size=-5",
                                                   "page_size=101",
                                                   "page_size=100000",
                                                   "page_size=1.5",
                                                   "ordering=;DROP",
                                                   "ordering=%3BDROP%20TABLE%20products",
                                                   "ordering=-",
                                                   "ordering=--name",
                                                   "ordering=name,-",
                                                   "ordering=%00",
                                                   "ordering=pg_sleep(1)",
                                                   "min_price=1e999",
                                                   "min_price=abc",
                                                   "max_price=-1e999",
                                                   "min_price=NaN",
                                                   "max_price=99999999999999999999.99",
                                                   "min_price=1.999",
                                                   "category=abc",
                                                   "category=-1",
                                                   "category=%27%20OR%201%3D1",
                                                   "search=%00",
                                                   "search=%ZZ",
                                                   "search=%",
                                                   "search=%C0%AF",
                                                   "search=%FF%FE",
                                                   "search=" + url_escape_bytes("' OR 1=1 --"),
                                                   "q=%E2%80%AE",
                                                   "quantity=-1",
                                                   "quantity=0",
                                                   "quantity=abc",
                                                   "quantity=1e999",
                                                   "quantity=99999999999999999999",
                                                   "variant=abc",
                                                   "variant=-1",
                                                   "customer=abc",
                                                   "status=%27",
                                                   "status=NOPE",
                                                   "tier=DIAMOND",
                                                   "page[]=1",
                                                   "page=1&page=2",
                                                   "&&&",
                                                   "=",
                                                   "a=%%%",
                                                   "%00=%00",
                                                   "page_size=%2B5",
                                                   "kind=%0d%0aX-Injected:1",
                                                   "min_quantity=1e999"};
    std::string q;
    const size_t n = 1 + rng.below(4);
    for (size_t i = 0; i < n; ++i) q += (i ? "&" : "") + rng.pick(parts);
    return q;
}

Generated generate(std::uint64_t seed, long index, const Config &cfg) {
    Rng rng(seed ^ (0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(index + 1)));
    Generated g;
    std::string method, target, body, headers;
    bool has_body = false;

    const size_t kind = rng.below(100);
    if (kind < 20) {
        // GET with a bad query string; never a valid customer token (GET /api/cart/ writes).
        const auto &r = rng.pick(get_routes());
        method = "GET";
        target = fill_id(r.path, id_segment(rng, cfg.ids, r.id, true)) + "?" + query_string(rng);
        const size_t a = rng.below(4);
        if (a == 0) headers = "Authorization: Bearer " + cfg.admin + "\r\n";
        if (a == 1) headers = "Authorization: Bearer " + rng.pick(kBadTokens) + "\r\n";
        g.what = "GET bad-query";
    } else if (kind < 27) {
        // A method the path does not allow, or an odd verb; any credential, a harmless body.
        const auto &r = rng.pick(write_routes());
        static const std::vector<std::string> methods = {"GET", "POST", "PUT", "PATCH", "DELETE"};
        static const std::vector<std::string> odd = {"TRACE", "FOO",  "PROPFIND", "MKCOL", "SEARCH",
                                                     "PURGE", "LINK", "COPY",     "MOVE",  "post",
                                                     "Get",   "P0ST", "DELETE_"};
        if (rng.chance(50)) {
            std::vector<std::string> not_allowed;
            for (const auto &m : methods)
                if ((" " + r.allowed + " ").find(" " + m + " ") == std::string::npos)
                    not_allowed.push_back(m);
            method = not_allowed.empty() ? "TRACE" : rng.pick(not_allowed);
        } else {
            method = rng.pick(odd);
        }
        // An id that does not exist, so a route that does accept the method cannot act.
        target = fill_id(r.path, id_segment(rng, cfg.ids, r.id, false));
        bool cred = false;
        headers = auth_header(rng, cfg, r.auth, cred);
        if (method != "GET" && method != "DELETE" && method != "Get") {
            has_body = true;
            body = rng.chance(50) ? rng.pick(kBrokenJson) : object_body(rng, r.poison, true);
        }
        // GET /api/cart/ with a valid customer token writes, and a path such as
        // /api/cart/items/../ is /api/cart/ after nginx normalises it: no customer token on GETs.
        if ((method == "GET" || method == "Get") && headers.find(cfg.customer) != std::string::npos)
            headers = "Authorization: Bearer " + cfg.customer + "0\r\n";
        g.write = method != "GET" && method != "Get";
        g.what = "wrong-method " + method;
    } else {
        const auto &r = rng.pick(write_routes());
        method = r.method;
        bool cred = false;
        headers = auth_header(rng, cfg, r.auth, cred);
        // A real token on a route that acts without a body: only ids that do not exist,
        // and no credential at all for id-less actions (token rotation, plugin reload).
        if (cred && r.destructive && r.id == IdKind::None && r.poison == Poison::None) {
            headers = "Authorization: Bearer " + rng.pick(kBadTokens) + "\r\n";
            cred = false;
        }
        // Cart writes with a valid customer token may create the cart first: bad tokens only.
        if (cred && r.path.rfind("/api/cart/items/", 0) == 0) {
            headers = "Authorization: Bearer " + cfg.customer + "0\r\n";
            cred = false;
        }
        target = fill_id(r.path, id_segment(rng, cfg.ids, r.id, !(cred && r.destructive)));
        g.write = true;
        g.what = method + " " + r.path;

        // Checkout with a real token: only with an Idempotency-Key that is too long.
        if (r.path == "/api/cart/checkout/") {
            static const std::vector<std::string> keys = {"",
                                                          " ",
                                                          "\xff\xfe",
                                                          "key with spaces",
                                                          "'; DROP TABLE idempotency_keys; --",
                                                          "%00",
                                                          "\xc0\xaf",
                                                          std::string(1000, 'k')};
            if (cred || rng.chance(50))
                headers += "Idempotency-Key: " + std::string(256 + rng.below(4000), 'k') + "\r\n";
            else
                headers += "Idempotency-Key: " + rng.pick(keys) + "\r\n";
            if (!cred && rng.chance(20)) headers += "Idempotency-Key: second\r\n";
        }

        if (method != "DELETE" || rng.chance(20)) {
            has_body = true;
            const size_t b = rng.below(100);
            const bool need_poison = cred && r.poison != Poison::None;
            if (b < 2) {
                body = "{\"name\":\"" + std::string((1 << 20) + 1 + rng.below(100000), 'z') + "\"}";
                g.fresh = true;
                g.what += " oversize";
            } else if (b < 20) {
                body = rng.pick(kBrokenJson);
            } else if (b < 30) {
                body = rng.pick(kNonObject);
            } else if (b < 38) {
                // Invalid UTF-8 in "name" when nothing else guards the request, else beside
                // the poison (a lenient parser might take such a name).
                body = std::string(need_poison ? "{\"x_utf8\"" : "{\"name\"") + ":\"" +
                       rng.pick(kInvalidUtf8) + "\"" +
                       (need_poison ? "," + poison_member(rng, r.poison) : "") + "}";
            } else if (b < 42) {
                std::string deep;
                const size_t depth = 100 + rng.below(5000);
                for (size_t i = 0; i < depth; ++i) deep += "[";
                body = "{\"name\":" + deep + "}";
            } else {
                body = object_body(rng, r.poison, need_poison);
            }
        }
    }

    headers += extra_headers(rng, g);
    if (rng.chance(3)) {
        // Bad percent-encodings and NUL in the path itself.
        static const std::vector<std::string> junk = {"%00",     "%ZZ", "%",      "%C0%AF",
                                                      "%2e%2e/", "%FF", "%0d%0a", "%25%00"};
        target.insert(
            std::min(target.size(), 5 + rng.below(target.size() > 5 ? target.size() - 5 : 1)),
            rng.pick(junk));
        g.what += " bad-path";
    }
    if (rng.chance(1)) {
        target += "?" + std::string(9000 + rng.below(10000), 'q');  // > 8k request line
        g.fresh = true;
        g.what += " long-uri";
    }

    std::string raw = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers;
    if (has_body) {
        static const std::vector<std::string> types = {"application/json",
                                                       "application/json",
                                                       "application/json",
                                                       "application/json; charset=utf-8",
                                                       "text/plain",
                                                       "application/x-www-form-urlencoded",
                                                       "application/json; charset=latin1",
                                                       "multipart/form-data; boundary=x",
                                                       ""};
        const std::string type = rng.pick(types);
        if (!type.empty()) raw += "Content-Type: " + type + "\r\n";
        raw += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    if (g.fresh) raw += "Connection: close\r\n";
    raw += "\r\n" + body;
    g.raw = std::move(raw);
    return g;
}

// ---------------------------------------------------------------------------------------------
// Checks.

std::string printable(const std::string &s, size_t max) {
    std::string out;
    for (unsigned char c : s.substr(0, max)) {
        if (c == '\r')
            out += "\\r";
        else if (c == '\n')
            out += "\\n";
        else if (c < 32 || c >= 127) {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02x", c);
            out += b;
        } else
            out += static_cast<char>(c);
    }
    if (s.size() > max) out += "...(" + std::to_string(s.size()) + " bytes)";
    return out;
}

/// "" when the response is acceptable, else why not.
std::string check(const Generated &g, const Response &r) {
    if (r.status >= 500) return "status >= 500";
    if (r.status >= 200 && r.status < 300 && g.write) return "a write route answered 2xx";
    if (r.status < 400) return "";
    if (r.header("content-type").rfind("application/problem+json", 0) != 0)
        return "Content-Type is not application/problem+json";
    rapidjson::Document d;
    d.Parse(r.body.c_str(), r.body.size());
    if (d.HasParseError() || !d.IsObject()) return "body is not a JSON object";
    if (!d.HasMember("status") || !d["status"].IsInt() || d["status"].GetInt() != r.status)
        return "\"status\" is not the HTTP status";
    if (!d.HasMember("title") || !d["title"].IsString()) return "no \"title\" string";
    return "";
}

// ---------------------------------------------------------------------------------------------
// Database fingerprint.

std::map<std::string, std::string> fingerprint(pqxx::connection &c) {
    pqxx::work w(c);
    std::map<std::string, std::string> out;
    const auto tables = w.exec(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND "
        "table_type = 'BASE TABLE' ORDER BY table_name");
    for (const auto &row : tables) {
        const std::string name = row[0].c_str();
        const auto r = w.exec(
            "SELECT count(*)::text || ':' || coalesce(md5(string_agg(t::text, "
            "',' ORDER BY t::text)), '') FROM " +
            w.quote_name(name) + " t");
        out[name] = r[0][0].c_str();
    }
    return out;
}

Ids existing_ids() {
    pqxx::connection c(env("SHOPD_DATABASE_URL"));
    pqxx::work w(c);
    Ids ids;
    const std::vector<std::pair<IdKind, std::string>> tables = {
        {IdKind::Category, "categories"},     {IdKind::Product, "products"},
        {IdKind::Variant, "variants"},        {IdKind::Rule, "pricing_rules"},
        {IdKind::Customer, "customers"},      {IdKind::CartItem, "cart_items"},
        {IdKind::Reservation, "reservations"}};
    for (const auto &[kind, table] : tables) {
        const auto r = w.exec("SELECT coalesce(max(id), 0) FROM " + w.quote_name(table));
        ids.existing[kind] = r[0][0].as<long long>();
    }
    return ids;
}

long env_long(const char *name, long fallback) {
    const char *v = std::getenv(name);
    return v != nullptr && *v != '\0' ? std::stol(v, nullptr, 0) : fallback;
}

class BadRequestITest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(BadRequestITest);
    CPPUNIT_TEST(bad_requests_fail_cleanly_and_change_nothing);
    CPPUNIT_TEST_SUITE_END();

public:
    void bad_requests_fail_cleanly_and_change_nothing() {
        const auto seed = static_cast<std::uint64_t>(
            env_long("SHOPD_BADREQ_SEED", static_cast<long>(kDefaultSeed)));
        const long count = env_long("SHOPD_BADREQ_COUNT", kDefaultCount);
        std::cout << "\nbadreq: seed 0x" << std::hex << seed << std::dec << ", " << count
                  << " requests" << std::endl;

        Config cfg;
        cfg.admin = admin_token();
        {
            Http http;
            // Before the first fingerprint: a customer token, and a category, product and variant
            // so that real ids get bad bodies even on a fresh database.
            cfg.customer = new_customer(http);
            new_product(http, {{"0.00", 5}}, "badreq");
        }
        cfg.ids = existing_ids();
        pqxx::connection db(env("SHOPD_DATABASE_URL"));
        const auto before = fingerprint(db);
        // SHOPD_BADREQ_BISECT=1: one thread, the database compared after every request, stop at
        // the first request that changed it (slow: to find the culprit of a failed run).
        const bool bisect = env_long("SHOPD_BADREQ_BISECT", 0) != 0;
        const int threads_n = bisect ? 1 : kThreads;
        const int port = stack_port();

        std::mutex mu;
        std::map<long, long> by_status;
        std::vector<std::string> failures;
        long failure_count = 0;
        std::atomic<long> next{0};
        const auto start = std::chrono::steady_clock::now();
        std::vector<std::thread> threads;
        for (int t = 0; t < threads_n; ++t) {
            threads.emplace_back([&] {
                Conn conn(port);
                std::map<long, long> local;
                for (long i; (i = next.fetch_add(1)) < count;) {
                    const Generated g = generate(seed, i, cfg);
                    Response r;
                    std::string why;
                    try {
                        r = conn.roundtrip(g.raw, g.fresh);
                        why = check(g, r);
                    } catch (const std::exception &e) {
                        why = std::string("no response: ") + e.what();
                    }
                    ++local[r.status];
                    if (bisect && why.empty() && fingerprint(db) != before) {
                        why = "the database changed after this request";
                        next = count;
                    }
                    if (!why.empty()) {
                        std::lock_guard<std::mutex> lock(mu);
                        if (++failure_count <= 25)
                            failures.push_back(
                                "#" + std::to_string(i) + " (" + g.what + "): " + why +
                                "\n  request: " + printable(g.raw, 400) +
                                "\n  response: " + std::to_string(r.status) + " " +
                                r.header("content-type") + " " + printable(r.body, 300));
                    }
                }
                std::lock_guard<std::mutex> lock(mu);
                for (const auto &[s, n] : local) by_status[s] += n;
            });
        }
        for (auto &t : threads) t.join();
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

        std::ostringstream summary;
        summary << "badreq: " << count << " requests in " << secs << " s; by status:";
        for (const auto &[s, n] : by_status) summary << " " << s << "=" << n;
        std::cout << summary.str() << std::endl;
        for (const auto &f : failures) std::cout << "badreq FAIL " << f << std::endl;

        const auto after = fingerprint(db);
        std::string changed;
        for (const auto &[table, fp] : before) {
            const auto it = after.find(table);
            if (it == after.end() || it->second != fp) changed += " " + table;
        }
        if (after.size() != before.size()) changed += " (tables added or removed)";
        std::cout << "badreq: " << before.size()
                  << " tables fingerprinted, changed:" << (changed.empty() ? " none" : changed)
                  << std::endl;

        CPPUNIT_ASSERT_MESSAGE("at least 10,000 requests",
                               count >= 10000 || std::getenv("SHOPD_BADREQ_COUNT"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(
            "failing responses (see badreq FAIL lines; seed 0x" +
                [&] {
                    std::ostringstream s;
                    s << std::hex << seed;
                    return s.str();
                }() +
                ")",
            0L, failure_count);
        CPPUNIT_ASSERT_MESSAGE("database changed:" + changed, changed.empty());
    }
};

}  // namespace

CPPUNIT_TEST_SUITE_REGISTRATION(BadRequestITest);
