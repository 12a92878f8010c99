// Shadow mode's shared memory: which candidate shadows which plugin (written by the master), the
// queue of served requests the workers hand to the shadow process, and the comparison's totals.
// Part of SharedState (one mapping made before the first fork), so every worker feeds the same
// queue and any worker reports the same totals. Lock-free like the rest of it: a worker or the
// shadow process killed at any point leaves nothing held.
#pragma once

#include "seqlocked.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace shopd::host {

/// The candidate, as the master decided it; serial 0: no shadow.
struct ShadowControl {
    std::uint64_t serial;  ///< the candidate's generation serial (new for every start)
    char name[64];         ///< the plugin it shadows
    char version[64];      ///< the candidate's
    char copy[512];        ///< its private copy, what the shadow process dlopen()s
    char path[512];        ///< the file the operator named
    char started_at[40];
    char state[16];   ///< "running", "crashed" (respawning) or "refused" (did not load)
    char error[400];  ///< the last crash or refusal of the shadow process ("" if none)
};

/// A request a worker served, to be priced again by the candidate.
struct ShadowJob {
    std::uint64_t serial;  ///< the shadow it was offered to (older ones are dropped)
    char method[8];
    char path[256];
    char query[512];
    char base_url[128];
    char served_version[64];  ///< the serving generation's version
    bool is_admin;
    int served_status;
    std::int64_t served_us;  ///< the serving plugin's handle() time
    std::uint32_t served_len;
    char served_body[2048];
};

/// A bounded multi-producer multi-consumer queue (D. Vyukov's): each cell's sequence number
/// says whether it is free for the producer of a position or filled for its consumer. Full:
/// push() fails at once, so a worker never waits for the shadow.
class ShadowQueue {
public:
    static constexpr std::size_t kCells = 1024;
    ShadowQueue() {
        for (std::size_t i = 0; i < kCells; ++i) cells_[i].seq.store(i);
    }
    bool push(const ShadowJob &job);
    bool pop(ShadowJob &job);

private:
    struct Cell {
        std::atomic<std::uint64_t> seq;
        ShadowJob job;
    };
    Cell cells_[kCells];
    alignas(64) std::atomic<std::uint64_t> head_{0};  ///< next position to fill
    alignas(64) std::atomic<std::uint64_t> tail_{0};  ///< next position to take
};

/// Latency histogram: 8 buckets per power of two of microseconds (<= 12.5% error), to 2^24 us.
struct LatencyHistogram {
    static constexpr int kBuckets = 25 * 8;
    std::atomic<std::uint64_t> counts[kBuckets];
    void add(std::int64_t micros);
    /// The upper bound (ms) of the bucket holding quantile q; -1 when empty.
    double quantile_ms(double q) const;
    void clear();
};

struct ShadowExample {
    char request[400];
    int serving_status, candidate_status;
    char serving[700], candidate[700];
};
struct ShadowExamples {
    std::uint32_t count;
    ShadowExample items[5];
};

/// The comparison so far, totals over every worker.
struct ShadowStats {
    std::atomic<std::uint64_t> compared{0};   ///< served requests the candidate answered too
    std::atomic<std::uint64_t> differing{0};  ///< ... with another status or body
    std::atomic<std::uint64_t> failed{0};     ///< candidate crashed or could not serve them
    std::atomic<std::uint64_t> skipped{0};    ///< not compared: queue full, answer too large
    std::atomic<std::uint64_t> crashes{0};    ///< shadow process deaths
    std::atomic<std::uint64_t> in_flight{0};  ///< being compared now (lost if it crashes)
    LatencyHistogram serving_us, candidate_us;
    Seqlocked<ShadowExamples> examples;  ///< written by the shadow process only
    void clear();
};

struct ShadowShared {
    std::atomic<std::uint64_t> serial{0};  ///< = control.serial; read on every request
    Seqlocked<ShadowControl> control;
    ShadowQueue queue;
    ShadowStats stats;
};

}  // namespace shopd::host
