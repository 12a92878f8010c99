// A worker's database connection: lazy connect, back-off while the database is down, and a
// liveness check that catches a connection that died while the worker was idle.
#include "worker_db.hpp"

#include "log.hpp"

#include <pqxx/pqxx>

#include <poll.h>

namespace shopd::host {

WorkerDb::WorkerDb(std::string url, std::int64_t lock_timeout_ms, std::int64_t statement_timeout_ms)
    : url_(std::move(url)), lock_timeout_(std::to_string(lock_timeout_ms) + "ms"),
      statement_timeout_(std::to_string(statement_timeout_ms) + "ms") {}

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
        // Every row lock any plugin waits for (checkout, inventory, cart) gives up after
        // --lock-timeout-ms; the SDK answers SQLSTATE 55P03 with 409 + Retry-After. A statement
        // running past --statement-timeout-ms is cancelled (57014, answered 503 + Retry-After).
        // JIT off: the API's statements are short, and a cost estimate that crosses jit_above_cost
        // (the catalog's in_stock filter on 100k products) spent ~0.7 s compiling a 0.2 s query.
        pqxx::nontransaction setup(*conn_);
        setup.exec_params(
            "SELECT set_config('lock_timeout', $1, false), set_config('jit', 'off', false), "
            "set_config('statement_timeout', $2, false)",
            lock_timeout_, statement_timeout_);
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
