// systemd integration of the master (sd_notify): READY=1 once every worker serves and the
// database answered, RELOADING=1/READY=1 around a reload, STOPPING=1 on drain, STATUS= lines,
// and WATCHDOG=1 pings while every worker process checks in (Heartbeats). Without NOTIFY_SOCKET
// (not started by systemd) every call is a no-op.
#pragma once

#include "shared_state.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace shopd::host {

/// One monotonic timestamp per worker slot in shared memory: the worker's event loop writes it
/// at every pass (at least every 200 ms while idle), so a stopped or wedged worker goes stale.
namespace heartbeat {
/// Master, before the first fork: maps the slots.
void create();
/// Worker, at start: the slot this process writes.
void set_slot(std::size_t slot);
/// Worker event loop: "alive now".
void beat();
/// Master, at spawn: a fresh worker counts as alive until it is stale.
void reset(std::size_t slot);
/// How long ago the slot last beat.
std::chrono::milliseconds age(std::size_t slot);
}  // namespace heartbeat

class Notifier {
public:
    explicit Notifier(std::string database_url);

    /// Called every master tick with each slot's pid (0: none) and the workers' reports.
    void tick(const std::vector<pid_t> &slots, const std::vector<WorkerReport> &reports);
    /// Around a reload (SIGHUP) and before a re-exec (upgrade).
    void reloading();
    void reloaded(const std::vector<pid_t> &slots, const std::vector<WorkerReport> &reports);
    void stopping();
    /// True once READY=1 was sent (or would have been, without systemd).
    bool ready() const { return ready_; }

private:
    using Clock = std::chrono::steady_clock;
    bool all_ready(const std::vector<pid_t> &slots, const std::vector<WorkerReport> &reports);
    void status(const std::vector<pid_t> &slots, const std::vector<WorkerReport> &reports);
    void watchdog(const std::vector<pid_t> &slots);

    const std::string database_url_;
    bool ready_ = false;
    bool db_ok_ = false;
    Clock::time_point next_db_try_{};
    std::string last_status_;
    std::chrono::microseconds watchdog_{0};  ///< WATCHDOG_USEC for us; 0: off
    Clock::time_point last_ping_{};
};

}  // namespace shopd::host
