// Lock-free open addressing over a fixed slot array shared between processes (see the header).
//
// A slot goes kEmpty -> kWriting (claimed by compare_exchange; the claimer alone writes the key
// bytes) -> kReady (release store; the key is immutable from then on, only the count changes). A
// claimer killed mid-write leaves kWriting behind: whoever waits on such a slot longer than
// kWriterGraceUs marks it kDead, and everyone skips it from then on (a slow but alive claimer
// sees its kWriting -> kReady exchange fail and probes on). Slots are never freed, so counts
// only ever grow and a key never moves.
#include "shared_counters.hpp"

#include <sched.h>

#include <chrono>
#include <cstring>
#include <limits>

namespace shopd::host {

namespace {

using Slot = SharedCounterTable::Slot;

// Another process may be killed at any instant: only lock-free atomics are safe to share.
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(SharedCounterTable::kKeyBytes <= std::numeric_limits<std::uint16_t>::max());
static_assert(SharedCounterTable::kMaxBBytes <= SharedCounterTable::kKeyBytes);

constexpr std::uint32_t kEmpty = 0;  // zeroed memory is an empty table
constexpr std::uint32_t kWriting = 1;
constexpr std::uint32_t kReady = 2;
constexpr std::uint32_t kDead = 3;

/// How long a claimer may take to write a key before it is presumed killed.
constexpr std::chrono::microseconds kWriterGraceUs{20000};

/// A key as stored: already truncated to fit a slot.
struct Key {
    std::string a;
    std::string b;
    std::int32_t num = 0;
    std::uint32_t hash = 0;
};

/// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
std::string truncate_utf8(const std::string &s, std::size_t max) {
    if (s.size() <= max) return s;
    std::size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n);
}

std::uint32_t fnv1a(std::uint32_t h, const char *p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        h ^= static_cast<unsigned char>(p[i]);
        h *= 16777619u;
    }
    return h;
}

Key make_key(const std::string &a, const std::string &b, std::int32_t num) {
    Key k;
    k.b = truncate_utf8(b, SharedCounterTable::kMaxBBytes);
    k.a = truncate_utf8(a, SharedCounterTable::kKeyBytes - k.b.size());
    k.num = num;
    std::uint32_t h = 2166136261u;
    h = fnv1a(h, k.a.data(), k.a.size());
    h = fnv1a(h, "\0", 1);
    h = fnv1a(h, k.b.data(), k.b.size());
    h = fnv1a(h, reinterpret_cast<const char *>(&num), sizeof num);
    k.hash = h;
    return k;
}

bool matches(const Slot &s, const Key &k) {
    return s.hash == k.hash && s.num == k.num && s.a_len == k.a.size() && s.b_len == k.b.size() &&
           std::memcmp(s.key, k.a.data(), k.a.size()) == 0 &&
           std::memcmp(s.key + k.a.size(), k.b.data(), k.b.size()) == 0;
}

/// Waits (bounded) while `s` is being written; returns the state seen last. A writer that
/// overstays the grace period is presumed dead and its slot marked kDead.
std::uint32_t wait_while_writing(Slot &s) {
    std::uint32_t st = s.state.load(std::memory_order_acquire);
    if (st != kWriting) return st;
    const auto deadline = std::chrono::steady_clock::now() + kWriterGraceUs;
    for (unsigned spins = 1;; ++spins) {
        if (spins % 64 == 0) {
            if (std::chrono::steady_clock::now() >= deadline) {
                std::uint32_t expected = kWriting;
                if (s.state.compare_exchange_strong(expected, kDead, std::memory_order_acq_rel))
                    return kDead;
                return expected;
            }
            sched_yield();
        }
        st = s.state.load(std::memory_order_acquire);
        if (st != kWriting) return st;
    }
}

/// The index of `k` among `slots`, inserting it if needed; -1 when all are taken.
std::ptrdiff_t find_or_insert(Slot (&slots)[SharedCounterTable::kSlots], const Key &k) {
    constexpr std::size_t n = SharedCounterTable::kSlots;
    for (std::size_t probe = 0; probe < n; ++probe) {
        const std::size_t i = (k.hash + probe) % n;
        Slot &s = slots[i];
        for (;;) {  // re-examines this slot until it is decided; each state change is final
            std::uint32_t st = wait_while_writing(s);
            if (st == kReady) {
                if (matches(s, k)) return static_cast<std::ptrdiff_t>(i);
                break;
            }
            if (st == kDead) break;
            if (st == kWriting) continue;  // cannot happen: the wait ended in another state
            std::uint32_t expected = kEmpty;
            if (!s.state.compare_exchange_strong(expected, kWriting, std::memory_order_acq_rel))
                continue;  // someone else claimed it: look again
            s.hash = k.hash;
            s.num = k.num;
            s.a_len = static_cast<std::uint16_t>(k.a.size());
            s.b_len = static_cast<std::uint16_t>(k.b.size());
            std::memcpy(s.key, k.a.data(), k.a.size());
            std::memcpy(s.key + k.a.size(), k.b.data(), k.b.size());
            expected = kWriting;
            if (s.state.compare_exchange_strong(expected, kReady, std::memory_order_acq_rel))
                return static_cast<std::ptrdiff_t>(i);
            break;  // we were presumed dead and the slot abandoned: probe on
        }
    }
    return -1;
}

}  // namespace

std::atomic<std::uint64_t> *SharedCounterTable::counter(const std::string &a, const std::string &b,
                                                        std::int32_t num) {
    const std::ptrdiff_t i = slot(a, b, num);
    return i < 0 ? nullptr : &slots_[static_cast<std::size_t>(i)].count;
}

std::ptrdiff_t SharedCounterTable::slot(const std::string &a, const std::string &b,
                                        std::int32_t num) {
    return find_or_insert(slots_, make_key(a, b, num));
}

std::vector<SharedCounterTable::Entry> SharedCounterTable::snapshot() const {
    std::vector<Entry> out;
    for (std::size_t i = 0; i < kSlots; ++i) {
        const Slot &s = slots_[i];
        if (s.state.load(std::memory_order_acquire) != kReady) continue;
        out.push_back({std::string(s.key, s.a_len), std::string(s.key + s.a_len, s.b_len), s.num,
                       s.count.load(std::memory_order_relaxed), i});
    }
    return out;
}

}  // namespace shopd::host
