// One worker thread's PostgreSQL connection, opened lazily and replaced after it broke.
#pragma once

#include <pqxx/connection>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace shopd::host {

/// `url` (a libpq URL or keyword/value string) as a keyword/value string whose "options" start
/// with `settings` ("-c name=value ..."); the URL's own options follow, so they win.
std::string with_session_settings(const std::string &url, const std::string &settings);

class WorkerDb {
public:
    WorkerDb(const std::string &url, std::int64_t lock_timeout_ms,
             std::int64_t statement_timeout_ms);
    ~WorkerDb();

    /// A usable connection, or nullptr while the database is unreachable (the caller answers 503).
    pqxx::connection *get();
    /// Drops the connection after a request saw it break; the next get() reconnects.
    void reset();

private:
    using Clock = std::chrono::steady_clock;

    bool still_alive();
    void connect();

    std::string url_;  ///< with the session settings
    std::unique_ptr<pqxx::connection> conn_;
    Clock::time_point next_attempt_{};
    Clock::time_point last_used_{};
    bool was_down_ = false;
};

}  // namespace shopd::host
