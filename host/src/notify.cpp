// sd_notify for the master, and the workers' heartbeat slots (notify.hpp).
#include "notify.hpp"

#include "log.hpp"

#include <libpq-fe.h>
#include <sys/mman.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <atomic>
#include <ctime>

namespace shopd::host {
namespace heartbeat {
namespace {

std::atomic<std::int64_t> *g_beats = nullptr;  // kMaxProcesses monotonic ns, MAP_SHARED
long g_slot = -1;

std::int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);  // one clock for every process of the machine
    return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

void create() {
    void *p = mmap(nullptr, sizeof(std::atomic<std::int64_t>) * kMaxProcesses,
                   PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        log_line(1, "master", "no heartbeat slots: the watchdog is not fed");
        return;
    }
    g_beats = static_cast<std::atomic<std::int64_t> *>(p);
}

void set_slot(std::size_t slot) { g_slot = static_cast<long>(slot); }

void beat() {
    if (g_beats && g_slot >= 0) g_beats[g_slot].store(now_ns(), std::memory_order_relaxed);
}

void reset(std::size_t slot) {
    if (g_beats && slot < kMaxProcesses) g_beats[slot].store(now_ns());
}

std::chrono::milliseconds age(std::size_t slot) {
    if (!g_beats || slot >= kMaxProcesses) return std::chrono::milliseconds(0);
    return std::chrono::milliseconds((now_ns() - g_beats[slot].load()) / 1000000);
}

}  // namespace heartbeat

Notifier::Notifier(std::string database_url) : database_url_(std::move(database_url)) {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0) watchdog_ = std::chrono::microseconds(usec);
}

bool Notifier::all_ready(const std::vector<pid_t> &slots,
                         const std::vector<WorkerReport> &reports) {
    if (slots.empty()) return false;
    for (const pid_t pid : slots) {
        const bool ok =
            pid > 0 && std::any_of(reports.begin(), reports.end(),
                                   [pid](const auto &r) { return r.pid == pid && r.ready; });
        if (!ok) return false;
    }
    return true;
}

void Notifier::tick(const std::vector<pid_t> &slots, const std::vector<WorkerReport> &reports) {
    if (!ready_ && all_ready(slots, reports)) {
        // Plugins loaded in every worker; the database must answer too before we say ready.
        if (!db_ok_ && Clock::now() >= next_db_try_) {
            db_ok_ = database_url_.empty() || PQping(database_url_.c_str()) == PQPING_OK;
            next_db_try_ = Clock::now() + std::chrono::seconds(1);
            if (!db_ok_) log_line(1, "master", "workers ready, the database does not answer yet");
        }
        if (db_ok_) {
            ready_ = true;
            status(slots, reports);
            sd_notify(0, "READY=1");
            log_line(0, "master", "ready: every worker serves and the database answers");
        }
    }
    if (ready_) status(slots, reports);
    watchdog(slots);
}

void Notifier::reloading() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const long long usec = static_cast<long long>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%lld\nSTATUS=reloading", usec);
}

void Notifier::reloaded(const std::vector<pid_t> &slots, const std::vector<WorkerReport> &reports) {
    last_status_.clear();
    status(slots, reports);
    sd_notify(0, "READY=1");
}

void Notifier::stopping() { sd_notify(0, "STOPPING=1\nSTATUS=draining the workers"); }

void Notifier::status(const std::vector<pid_t> &slots, const std::vector<WorkerReport> &reports) {
    std::size_t ready = 0;
    for (const auto &r : reports) ready += r.ready ? 1 : 0;
    std::string s = std::to_string(ready) + "/" + std::to_string(slots.size()) + " workers ready";
    for (const auto &r : reports) {
        if (!r.ready) continue;
        s += "; plugins";
        for (std::uint32_t i = 0; i < r.plugin_count; ++i)
            s += std::string(i ? ", " : " ") + r.plugins[i].name + " " + r.plugins[i].version;
        break;
    }
    if (s == last_status_) return;
    last_status_ = s;
    sd_notify(0, ("STATUS=" + s).c_str());
}

/// WATCHDOG=1 every WATCHDOG_USEC/2, only while every worker slot beat within that time.
void Notifier::watchdog(const std::vector<pid_t> &slots) {
    if (watchdog_.count() == 0) return;
    const auto half = std::chrono::duration_cast<std::chrono::milliseconds>(watchdog_ / 2);
    if (Clock::now() - last_ping_ < half) return;
    const auto stale = std::max(half, std::chrono::milliseconds(1000));
    for (std::size_t i = 0; i < slots.size(); ++i)
        if (slots[i] > 0 && heartbeat::age(i) > stale) return;
    last_ping_ = Clock::now();
    sd_notify(0, "WATCHDOG=1");
}

}  // namespace shopd::host
