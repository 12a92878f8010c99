// Prometheus metrics: requests by route and status, a latency histogram, database errors.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace shopd::host {

class Metrics {
public:
    /// Latency bucket upper bounds in microseconds (Prometheus `le` in seconds).
    static constexpr std::array<std::int64_t, 12> kBucketsUs = {
        500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 5000000};

    void observe(const std::string &route, int status, std::int64_t micros);
    void count_db_error(const std::string &plugin, const std::string &sqlstate);

    /// Renders the text exposition format; `plugins` are (name, version, abi) triples.
    std::string render(const std::vector<std::array<std::string, 3>> &plugins) const;

private:
    mutable std::mutex mu_;
    std::map<std::pair<std::string, int>, std::uint64_t> requests_;
    std::map<std::pair<std::string, std::string>, std::uint64_t> db_errors_;
    std::array<std::uint64_t, kBucketsUs.size()> buckets_{};
    std::uint64_t count_ = 0;
    std::int64_t sum_us_ = 0;
};

/// Formats microseconds as decimal seconds without floating point: 1500 -> "0.0015".
std::string micros_as_seconds(std::int64_t micros);

}  // namespace shopd::host
