// A fixed-size table of counters keyed by (a, b, num) that several processes update at once.
//
// Metrics (metrics.hpp) places these tables in an anonymous shared mapping made before fork(), so
// every worker process counts into the same slots. That is why the table is built from lock-free
// atomics only, never allocates and never frees: a process killed with SIGKILL at any instant
// must not leave a lock held or memory half-linked, and a slot, once filled, is never reused (so
// counts only ever grow). All-zero bytes are a valid empty table, so value-initialising it in a
// zeroed mapping is all the setup it needs.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace shopd::host {

class SharedCounterTable {
public:
    /// Distinct keys the table holds; counter() returns nullptr for new keys beyond that.
    static constexpr std::size_t kSlots = 1024;
    /// Longest key kept, a and b together (bytes); longer keys are truncated at a UTF-8
    /// character boundary, so keys that differ only past the cut share one counter.
    static constexpr std::size_t kKeyBytes = 160;
    /// Longest b kept (bytes): b is short (a SQLSTATE), so a keeps the rest of kKeyBytes.
    static constexpr std::size_t kMaxBBytes = 32;

    /// The counter of (a, b, num) after truncation, inserted if new; nullptr when the table is
    /// full. The pointer stays valid (and keeps its key) for the table's lifetime.
    std::atomic<std::uint64_t> *counter(const std::string &a, const std::string &b,
                                        std::int32_t num);
    /// The slot index of (a, b, num), inserted if new (-1 when the table is full): lets a caller
    /// keep more per-key data (a histogram) in its own array of kSlots entries beside the table.
    std::ptrdiff_t slot(const std::string &a, const std::string &b, std::int32_t num);
    std::atomic<std::uint64_t> &count_at(std::size_t slot) { return slots_[slot].count; }

    /// One filled slot as read by snapshot().
    struct Entry {
        std::string a;
        std::string b;
        std::int32_t num;
        std::uint64_t count;
        std::size_t slot;  // index for count_at() and callers' per-slot arrays
    };
    /// Every filled slot with its count at the moment it was read (unordered; slots being
    /// written right now are left out).
    std::vector<Entry> snapshot() const;

    /// Storage layout: public only so that the helpers in shared_counters.cpp can name it; use
    /// counter() and snapshot(). State machine and crash handling: see shared_counters.cpp.
    struct alignas(64) Slot {
        std::atomic<std::uint32_t> state;
        std::uint32_t hash;
        std::atomic<std::uint64_t> count;
        std::int32_t num;
        std::uint16_t a_len;  // key[0, a_len)
        std::uint16_t b_len;  // key[a_len, a_len + b_len)
        char key[kKeyBytes];
    };

private:
    Slot slots_[kSlots];
};

}  // namespace shopd::host
