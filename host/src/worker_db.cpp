// A worker's database connection: lazy connect, back-off while the database is down, and a
// liveness check that catches a connection that died while the worker was idle.
#include "worker_db.hpp"

#include "log.hpp"

#include <libpq-fe.h>
#include <pqxx/pqxx>

#include <stdexcept>

#include <poll.h>

namespace shopd::host {

namespace {

/// Quotes a libpq keyword/value connection-string value.
std::string quote_conninfo(const std::string &v) {
    std::string out = "'";
    for (char c : v) {
        if (c == '\\' || c == '\'') out += '\\';
        out += c;
    }
    return out + "'";
}

}  // namespace

std::string with_session_settings(const std::string &url, const std::string &settings) {
    char *err = nullptr;
    PQconninfoOption *opts = PQconninfoParse(url.c_str(), &err);
    if (!opts) {
        const std::string why = err ? err : "out of memory";
        PQfreemem(err);
        throw std::invalid_argument("database URL: " + why);
    }
    std::string out, options;
    for (PQconninfoOption *o = opts; o->keyword; ++o) {
        if (!o->val) continue;
        if (std::string(o->keyword) == "options")
            options = o->val;
        else
            out += std::string(o->keyword) + "=" + quote_conninfo(o->val) + " ";
    }
    PQconninfoFree(opts);
    // The operator's own options come last, so they win over our defaults.
    return out + "options=" + quote_conninfo(settings + (options.empty() ? "" : " " + options));
}

WorkerDb::WorkerDb(const std::string &url, std::int64_t lock_timeout_ms,
                   std::int64_t statement_timeout_ms)
    : url_(url) {
    // Session settings travel in the startup packet (libpq "options"), not a statement after
    // connecting, so every connection has them, also one libpqxx reopens on its own. Every row
    // lock a plugin waits for gives up after --lock-timeout-ms (SQLSTATE 55P03 -> 409); a
    // statement running past --statement-timeout-ms is cancelled (57014 -> 503), and so is a
    // transaction left idle that long (a wedged request must not hold row locks). JIT off: the
    // API's statements are short, and a cost estimate that crosses jit_above_cost (the catalog's
    // in_stock filter on 100k products) spent ~0.7 s compiling a 0.2 s query.
    const std::string ms = "ms";
    try {
        url_ = with_session_settings(
            url, "-c lock_timeout=" + std::to_string(lock_timeout_ms) + ms +
                     " -c statement_timeout=" + std::to_string(statement_timeout_ms) + ms +
                     " -c idle_in_transaction_session_timeout=" +
                     std::to_string(statement_timeout_ms) + ms + " -c jit=off");
    } catch (const std::exception &e) {
        log_line(2, "host", e.what());  // connect() will report the same URL as unusable
    }
}

WorkerDb::~WorkerDb() = default;

pqxx::connection *WorkerDb::get() {
    if (conn_ && !still_alive()) conn_.reset();
    if (!conn_ && Clock::now() >= next_attempt_) connect();
    last_used_ = Clock::now();
    return conn_.get();
}

void WorkerDb::reset() { conn_.reset(); }

void WorkerDb::connect() {
    try {
        conn_ = std::make_unique<pqxx::connection>(url_);
        if (was_down_) log_line(0, "host", "database connection restored");
        was_down_ = false;
    } catch (const std::exception &e) {
        conn_.reset();
        // Back off so a down database costs one connect attempt per worker per 100 ms.
        next_attempt_ = Clock::now() + std::chrono::milliseconds(100);
        if (!was_down_) log_line(1, "host", std::string("database unavailable: ") + e.what());
        was_down_ = true;
    }
}

/// Whether the connection survived since its last use. An idle connection has nothing to say
/// (the host never LISTENs), so input waiting on it, or EOF, is the server's goodbye: a restart,
/// a shutdown, an idle timeout. One poll(), no round trip. A connection idle for a second also
/// gets a round trip, for a server that vanished without a word. Busy workers pay for neither;
/// what slips through is caught by the retry of a request that sent nothing (connection_lost).
bool WorkerDb::still_alive() {
    const int fd = conn_->sock();
    if (fd < 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 0) != 0) return false;
    if (Clock::now() - last_used_ < std::chrono::seconds(1)) return true;
    try {
        pqxx::nontransaction probe(*conn_);
        probe.exec("SELECT 1");
        return true;
    } catch (const std::exception &) {
        return false;
    }
}

}  // namespace shopd::host
