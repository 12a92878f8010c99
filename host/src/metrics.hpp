// Prometheus metrics: requests by route and status, latency histograms (overall and by route and
// status), database errors.
//
// All data lives in one anonymous shared mapping made by the constructor, so a Metrics created
// before fork() is written by every worker process and any of them renders the totals over all
// of them (a worker that dies or is respawned never takes counts away). Only lock-free atomics
// are shared: a process killed with SIGKILL at any point cannot leave anything locked.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "shared_counters.hpp"

namespace shopd::host {

class Metrics {
public:
    /// Latency bucket upper bounds in microseconds (Prometheus `le` in seconds).
    static constexpr std::array<std::int64_t, 12> kBucketsUs = {
        500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 5000000};

    /// Maps the shared memory (throws std::system_error if mmap fails).
    Metrics();
    ~Metrics();
    Metrics(const Metrics &) = delete;
    Metrics &operator=(const Metrics &) = delete;

    void observe(const std::string &route, int status, std::int64_t micros);
    void count_db_error(const std::string &plugin, const std::string &sqlstate);
    /// shopd_plugin_swaps_total{plugin}: a reload that put a changed plugin in service.
    void count_plugin_swap(const std::string &plugin);

    /// Renders the text exposition format; `plugins` are (name, version, abi) triples.
    std::string render(const std::vector<std::array<std::string, 3>> &plugins) const;

    /// Distinct (route, status) and (plugin, sqlstate) keys each table holds; beyond that,
    /// requests count under route "other" (with their status), db errors under plugin and
    /// sqlstate "other".
    static constexpr std::size_t kTableSlots = SharedCounterTable::kSlots;
    /// Longest key kept (bytes, cut at a UTF-8 character boundary); longer keys are truncated.
    static constexpr std::size_t kKeyBytes = SharedCounterTable::kKeyBytes;

private:
    /// shopd_route_duration_seconds: one histogram per (route, status) -> requests table slot.
    void render_route_latency(
        std::ostream &out, const std::map<std::pair<std::string, int>, std::size_t> &slots) const;

    struct Shared;  // defined in metrics.cpp; lives in the shared mapping
    Shared *shm_ = nullptr;
};

/// Formats microseconds as decimal seconds without floating point: 1500 -> "0.0015".
std::string micros_as_seconds(std::int64_t micros);

}  // namespace shopd::host
