// A record in memory shared between processes, with one writer and any number of readers:
// a seqlock, so a writer killed mid-write leaves nothing locked.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace shopd::host {

/// Copies `s` into a fixed buffer, truncated and NUL-terminated.
template <std::size_t N>
void copy_text(char (&dst)[N], const std::string &s) {
    const std::size_t n = s.size() < N - 1 ? s.size() : N - 1;
    std::memcpy(dst, s.data(), n);
    dst[n] = '\0';
}

/// A record with one writer and any number of readers in other processes.
template <class T>
class Seqlocked {
public:
    void write(const T &value) {
        seq_.fetch_add(1, std::memory_order_acq_rel);  // odd: write in progress
        std::atomic_thread_fence(std::memory_order_release);
        std::memcpy(static_cast<void *>(&value_), &value, sizeof(T));
        std::atomic_thread_fence(std::memory_order_release);
        seq_.fetch_add(1, std::memory_order_release);
    }
    /// Clears the record after its writer died (perhaps mid-write); the caller becomes the writer.
    void reset() {
        if (seq_.load() % 2 != 0) seq_.fetch_add(1);
        write(T{});
    }
    /// A consistent copy; `out` is value-initialised while nothing was written yet.
    void read(T &out) const {
        for (int spins = 0;; ++spins) {
            const std::uint64_t before = seq_.load(std::memory_order_acquire);
            std::memcpy(static_cast<void *>(&out), &value_, sizeof(T));
            std::atomic_thread_fence(std::memory_order_acquire);
            // A writer killed mid-write leaves the count odd forever: take what is there then.
            if ((before % 2 == 0 && seq_.load(std::memory_order_relaxed) == before) ||
                spins > 100000)
                return;
        }
    }

private:
    std::atomic<std::uint64_t> seq_{0};
    T value_{};
};

}  // namespace shopd::host
