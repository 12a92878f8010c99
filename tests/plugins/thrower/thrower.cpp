// thrower: a plugin built only for tests, written against the raw C ABI (shopd/plugin.h), not the
// SDK's PluginDef, whose run_guarded() would catch its exceptions itself. It lets exceptions
// escape into the host on purpose, so tests/integration/fault_itest.cpp can prove that the host
// contains them:
//   GET /api/test/throw/        handle() starts an answer, then throws std::runtime_error
//   GET /api/test/throw-other/  handle() throws an int (not derived from std::exception)
//   GET /api/test/ok/           200 {"status":"ok","plugin":"thrower"}
// and, for tests/integration/timeouts_itest.cpp, slow answers:
//   GET /api/test/sleep/?ms=N     handle() sleeps N ms (1..20000), then 200: nginx's
//                                 fastcgi_read_timeout is to answer 504 first
//   GET /api/test/slow-sql/?ms=N  SELECT pg_sleep(N / 1000) on the worker's connection, through
//                                 the SDK's run_guarded: the host's statement_timeout cancels it
//                                 (57014) and the SDK answers 503 + Retry-After. Before that
//                                 answer, the handler runs SELECT 1 on the same connection and
//                                 says in X-Thrower-Connection whether it still works ("usable")
//   GET /api/test/sql-ok/         200 with the session settings of the worker's connection
// and, for tests/integration/process_itest.cpp, a crash of the whole worker process:
//   GET /api/test/segfault/       raise(SIGSEGV): the worker dies with the request (the host's
//                                 crash handler answers it 500 first) and the master must log
//                                 the signal and respawn it
// The same source builds three modules, all named "thrower" (see CMakeLists.txt):
//   THROWER_BAD_INIT   init() throws std::runtime_error
//   THROWER_CRASH_INIT init() crashes the process (SIGSEGV)
//   THROWER_FUTURE_SCHEMA  declares it needs database schema 999 or newer
//   THROWER_BAD_ENTRY  the entry point thrower_shopd_plugin() itself throws
// No message thrown here names the plugin, "init" or "entry point": the tests look for those in
// what the host reports, so they must come from the host.
#include "shopd/http.hpp"
#include "shopd/plugin.h"
#include "shopd/sdk.hpp"  // SHOPD_BUILD_SIGNATURE; Ctx and run_guarded for the SQL routes

#include <pqxx/pqxx>

#include <chrono>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#if defined(THROWER_BAD_INIT) && defined(THROWER_BAD_ENTRY)
#error "build one variant at a time"
#endif

namespace {

enum Route {
    kThrow = 1,
    kThrowOther = 2,
    kOk = 3,
    kSleep = 4,
    kSlowSql = 5,
    kSqlOk = 6,
    kSegfault = 7
};

const shopd_route kRoutes[] = {
    {"GET", "/api/test/throw/", kThrow},
    {"GET", "/api/test/throw-other/", kThrowOther},
    {"GET", "/api/test/ok/", kOk},
    {"GET", "/api/test/sleep/", kSleep},
    {"GET", "/api/test/slow-sql/", kSlowSql},
    {"GET", "/api/test/sql-ok/", kSqlOk},
    {"GET", "/api/test/segfault/", kSegfault},
};

#if defined(THROWER_BAD_INIT)
constexpr const char *kVersion = "0.0.1-badinit";
#elif defined(THROWER_BAD_ENTRY)
constexpr const char *kVersion = "0.0.1-badentry";
#elif defined(THROWER_CRASH_INIT)
constexpr const char *kVersion = "0.0.1-crashinit";
#elif defined(THROWER_FUTURE_SCHEMA)
constexpr const char *kVersion = "0.0.1-futureschema";
#else
constexpr const char *kVersion = "1.0.0";
#endif

int init(const shopd_host_api *, [[maybe_unused]] void **state, char *, size_t) {
#if defined(THROWER_BAD_INIT)
    throw std::runtime_error("deliberate failure while starting up");
#elif defined(THROWER_CRASH_INIT)
    std::raise(SIGSEGV);  // kills the worker process that loads it
    return 1;
#else
    *state = nullptr;
    return 0;
#endif
}

void set_json(const shopd_request *req, shopd_response *resp, int status, const char *body) {
    req->host->set_status(resp, status);
    req->host->set_body(resp, "application/json", body, std::strlen(body));
}

/// ?ms=N of the request (1..20000), `fallback` when absent or out of range.
std::int64_t millis_param(const shopd_request *req, std::int64_t fallback) {
    const auto text = shopd::Query(req->query).get("ms");
    if (!text) return fallback;
    return shopd::parse_int(*text, 1, 20000).value_or(fallback);
}

void slow_sql(const shopd_request *req, shopd_response *resp) {
    const shopd::Ctx ctx("thrower", req, resp);
    const std::int64_t ms = millis_param(req, 5000);
    shopd::run_guarded(ctx, [&] {
        pqxx::connection &conn = ctx.db();
        try {
            pqxx::nontransaction tx(conn);
            tx.exec("SELECT pg_sleep(" + std::to_string(ms) + " / 1000.0)");
        } catch (const pqxx::sql_error &) {
            // Is the connection the worker keeps still good for its next request?
            try {
                pqxx::nontransaction check(conn);
                check.exec("SELECT 1");
                ctx.header("X-Thrower-Connection", "usable");
            } catch (const std::exception &) {
                ctx.header("X-Thrower-Connection", "broken");
            }
            throw;  // the SDK maps it (57014 -> 503 + Retry-After)
        }
        ctx.reply(200, "{\"status\":\"ok\",\"slept\":true}");
    });
}

void sql_ok(const shopd_request *req, shopd_response *resp) {
    const shopd::Ctx ctx("thrower", req, resp);
    shopd::run_guarded(ctx, [&] {
        pqxx::nontransaction tx(ctx.db());
        // The session settings the host gave this connection (libpq options, so they survive
        // a reconnect).
        const auto row = tx.exec(
            "SELECT current_setting('lock_timeout'), current_setting('statement_timeout'), "
            "current_setting('idle_in_transaction_session_timeout'), current_setting('jit')")[0];
        ctx.reply(200, "{\"status\":\"ok\",\"lock_timeout\":\"" + row[0].as<std::string>() +
                           "\",\"statement_timeout\":\"" + row[1].as<std::string>() +
                           "\",\"idle_in_transaction_session_timeout\":\"" +
                           row[2].as<std::string>() + "\",\"jit\":\"" + row[3].as<std::string>() +
                           "\"}");
    });
}

void handle(void *, int route_id, const shopd_request *req, shopd_response *resp) {
    switch (route_id) {
    case kThrow:
        // A half-written answer that the host must discard in favour of its 500.
        set_json(req, resp, 200, "{\"partial\":true}");
        req->host->add_header(resp, "X-Thrower-Partial", "1");
        throw std::runtime_error("deliberate failure in a request handler");
    case kThrowOther: throw 42;
    case kOk: set_json(req, resp, 200, "{\"status\":\"ok\",\"plugin\":\"thrower\"}"); return;
    case kSleep:
        std::this_thread::sleep_for(std::chrono::milliseconds(millis_param(req, 5000)));
        set_json(req, resp, 200, "{\"status\":\"ok\",\"slept\":true}");
        return;
    case kSlowSql: slow_sql(req, resp); return;
    case kSqlOk: sql_ok(req, resp); return;
    case kSegfault:
        // A real crash of the process, not an exception, as a buggy plugin would have it: the
        // host's crash handler answers this request 500, then the process dies of SIGSEGV.
        std::raise(SIGSEGV);
        set_json(req, resp, 500, "{\"status\":500}");  // not reached
        return;
    default: set_json(req, resp, 404, "{\"status\":404}"); return;
    }
}

void shutdown(void *) {}

const shopd_plugin kPlugin = {
    sizeof(shopd_plugin),
    SHOPD_PLUGIN_ABI_VERSION,
    SHOPD_BUILD_SIGNATURE,
    "thrower",
    kVersion,
    kRoutes,
    sizeof kRoutes / sizeof kRoutes[0],
    nullptr,  // services
    0,
    init,
    handle,
    nullptr,  // serve: offers no services
    shutdown,
    nullptr,  // required_services
    0,
#ifdef THROWER_FUTURE_SCHEMA
    999,  // schema_min: a database schema no migration has reached
#else
    0,  // schema_min: no bounds declared
#endif
    0,  // schema_max
    {},
};

}  // namespace

extern "C" SHOPD_EXPORT const shopd_plugin *thrower_shopd_plugin() {
#ifdef THROWER_BAD_ENTRY
    throw std::runtime_error("deliberate failure before any descriptor exists");
#else
    return &kPlugin;
#endif
}
