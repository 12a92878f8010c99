// Shadow mode's shared structures: the job queue and the latency histogram.
#include "shadow_state.hpp"

#include <chrono>
#include <thread>

namespace shopd::host {

bool ShadowQueue::push(const ShadowJob &job) {
    std::uint64_t pos = head_.load(std::memory_order_relaxed);
    for (;;) {
        Cell &cell = cells_[pos % kCells];
        const std::uint64_t seq = cell.seq.load(std::memory_order_acquire);
        const auto diff = static_cast<std::int64_t>(seq - pos);
        if (diff == 0) {
            if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
                cell.job = job;
                cell.seq.store(pos + 1, std::memory_order_release);
                return true;
            }
        } else if (diff < 0) {
            return false;  // full
        } else {
            pos = head_.load(std::memory_order_relaxed);
        }
    }
}

bool ShadowQueue::pop(ShadowJob &job) {
    std::uint64_t pos = tail_.load(std::memory_order_relaxed);
    for (int stuck = 0;;) {
        Cell &cell = cells_[pos % kCells];
        const std::uint64_t seq = cell.seq.load(std::memory_order_acquire);
        const auto diff = static_cast<std::int64_t>(seq - (pos + 1));
        if (diff == 0) {
            if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
                job = cell.job;
                cell.seq.store(pos + kCells, std::memory_order_release);
                return true;
            }
        } else if (diff < 0) {
            // Empty, or a producer claimed this cell and has not filled it yet. A producer is
            // a worker that may be killed between the two steps: a cell claimed but unfilled
            // for a second is given up (freed for the next round) so the queue does not stop.
            if (head_.load(std::memory_order_relaxed) <= pos || ++stuck > 1000) {
                if (stuck <= 1000) return false;
                if (tail_.compare_exchange_strong(pos, pos + 1))
                    cell.seq.store(pos + kCells, std::memory_order_release);
                stuck = 0;
                continue;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        } else {
            pos = tail_.load(std::memory_order_relaxed);
        }
    }
}

namespace {
int bucket_of(std::int64_t micros) {
    if (micros < 8) return micros < 0 ? 0 : static_cast<int>(micros);
    const int log2 = 63 - __builtin_clzll(static_cast<unsigned long long>(micros));
    const int sub = static_cast<int>((micros >> (log2 - 3)) & 7);
    const int b = (log2 - 2) * 8 + sub;
    return b < LatencyHistogram::kBuckets ? b : LatencyHistogram::kBuckets - 1;
}
/// The largest value of bucket b, in microseconds.
double upper_us(int b) {
    if (b < 8) return b + 1;
    const int log2 = b / 8 + 2;
    const int sub = b % 8;
    return static_cast<double>((8 + sub + 1) * (1LL << (log2 - 3)));
}
}  // namespace

void LatencyHistogram::add(std::int64_t micros) {
    counts[bucket_of(micros)].fetch_add(1, std::memory_order_relaxed);
}

double LatencyHistogram::quantile_ms(double q) const {
    std::uint64_t total = 0;
    for (const auto &c : counts) total += c.load(std::memory_order_relaxed);
    if (total == 0) return -1;
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total - 1)) + 1;
    std::uint64_t seen = 0;
    for (int b = 0; b < kBuckets; ++b) {
        seen += counts[b].load(std::memory_order_relaxed);
        if (seen >= rank) return upper_us(b) / 1000.0;
    }
    return upper_us(kBuckets - 1) / 1000.0;
}

void LatencyHistogram::clear() {
    for (auto &c : counts) c.store(0);
}

void ShadowStats::clear() {
    for (auto *c : {&compared, &differing, &failed, &skipped, &crashes, &in_flight}) c->store(0);
    serving_us.clear();
    candidate_us.clear();
    examples.reset();
}

}  // namespace shopd::host
