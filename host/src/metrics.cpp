// Prometheus metrics for the host, shared by all worker processes (see metrics.hpp).
//
// Layout of the shared mapping: histogram atomics, overflow counters, and two SharedCounterTables
// (requests by (route, status), db errors by (plugin, sqlstate)); the tables' lock-free slot
// protocol lives in shared_counters.cpp. This file only counts into them and renders the text.
#include "metrics.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <new>
#include <sstream>
#include <system_error>
#include <type_traits>

namespace shopd::host {

namespace {

// Another process may be killed at any instant: only lock-free atomics are safe to share.
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::int64_t>::is_always_lock_free);

/// Statuses outside [0, kOverflowStatuses) count as status 0 in the overflow series.
constexpr int kOverflowStatuses = 1000;

std::string escape_label(const std::string &v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

/// One counter family out of the events table: the entries of `kind`, labelled `label`.
void render_events(std::ostream &out,
                   const std::map<std::pair<std::string, std::string>, std::uint64_t> &events,
                   const std::string &kind, const char *name, const char *help, const char *label) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " counter\n";
    for (auto it = events.lower_bound({kind, ""}); it != events.end() && it->first.first == kind;
         ++it)
        out << name << "{" << label << "=\"" << escape_label(it->first.second) << "\"} "
            << it->second << "\n";
}

}  // namespace

/// One (route, status)'s latency: per-bucket counts (not cumulative: a request counts in the first
/// bucket that holds it, none beyond the last; render() adds them up) and the sum.
struct RouteLatency {
    std::atomic<std::uint64_t> buckets[Metrics::kBucketsUs.size()];
    std::atomic<std::int64_t> sum_us;
};

struct Metrics::Shared {
    std::atomic<std::uint64_t> buckets[kBucketsUs.size()];
    std::atomic<std::uint64_t> count;
    std::atomic<std::int64_t> sum_us;
    std::atomic<std::uint64_t> requests_overflow[kOverflowStatuses];
    std::atomic<std::uint64_t> db_errors_overflow;
    SharedCounterTable requests;
    RouteLatency route_latency[SharedCounterTable::kSlots];  // beside requests' slot of the key
    SharedCounterTable db_errors;
    SharedCounterTable events;  // ("swap", plugin); full: dropped
};

Metrics::Metrics() {
    static_assert(std::is_trivially_destructible_v<Shared>);  // munmap is all the cleanup
    void *p =
        mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "metrics mmap");
    shm_ = new (p) Shared{};  // the mapping is zeroed; value-initialisation keeps it so
}

Metrics::~Metrics() { munmap(shm_, sizeof(Shared)); }

std::string micros_as_seconds(std::int64_t micros) {
    std::string frac = std::to_string(micros % 1000000);
    frac.insert(0, 6 - frac.size(), '0');
    while (frac.size() > 1 && frac.back() == '0') frac.pop_back();
    return std::to_string(micros / 1000000) + "." + frac;
}

void Metrics::observe(const std::string &route, int status, std::int64_t micros) {
    if (const auto found = shm_->requests.slot(route, "", status); found >= 0) {
        const auto slot = static_cast<std::size_t>(found);
        // The count first, then the bucket (release); render() reads the other way round.
        shm_->requests.count_at(slot).fetch_add(1, std::memory_order_release);
        RouteLatency &l = shm_->route_latency[slot];
        l.sum_us.fetch_add(micros, std::memory_order_relaxed);
        for (std::size_t i = 0; i < kBucketsUs.size(); ++i)
            if (micros <= kBucketsUs[i]) {
                l.buckets[i].fetch_add(1, std::memory_order_release);
                break;
            }
    } else
        shm_->requests_overflow[status >= 0 && status < kOverflowStatuses ? status : 0].fetch_add(
            1, std::memory_order_relaxed);
    // Count first, then buckets from the widest down (release); render() reads them in the
    // opposite order (acquire), so a scrape never shows a bucket above a wider one or above +Inf.
    shm_->count.fetch_add(1, std::memory_order_release);
    shm_->sum_us.fetch_add(micros, std::memory_order_relaxed);
    for (std::size_t i = kBucketsUs.size(); i-- > 0;)
        if (micros <= kBucketsUs[i]) shm_->buckets[i].fetch_add(1, std::memory_order_release);
}

void Metrics::count_db_error(const std::string &plugin, const std::string &sqlstate) {
    if (auto *c = shm_->db_errors.counter(plugin, sqlstate, 0))
        c->fetch_add(1, std::memory_order_relaxed);
    else
        shm_->db_errors_overflow.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::render_route_latency(
    std::ostream &out, const std::map<std::pair<std::string, int>, std::size_t> &slots) const {
    out << "# HELP shopd_route_duration_seconds Time from request accepted to response written, "
           "by route pattern and status.\n"
           "# TYPE shopd_route_duration_seconds histogram\n";
    for (const auto &[key, slot] : slots) {
        const RouteLatency &l = shm_->route_latency[slot];
        const std::string labels = "route=\"" + escape_label(key.first) + "\",status=\"" +
                                   std::to_string(key.second) + "\"";
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < kBucketsUs.size(); ++i) {
            cumulative += l.buckets[i].load(std::memory_order_acquire);
            out << "shopd_route_duration_seconds_bucket{" << labels << ",le=\""
                << micros_as_seconds(kBucketsUs[i]) << "\"} " << cumulative << "\n";
        }
        // Read after the buckets: observe() counts before it fills a bucket, so this is never
        // below them.
        const std::uint64_t count =
            std::max(cumulative, shm_->requests.count_at(slot).load(std::memory_order_acquire));
        out << "shopd_route_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << count << "\n"
            << "shopd_route_duration_seconds_sum{" << labels << "} "
            << micros_as_seconds(l.sum_us.load(std::memory_order_relaxed)) << "\n"
            << "shopd_route_duration_seconds_count{" << labels << "} " << count << "\n";
    }
}

void Metrics::count_plugin_swap(const std::string &plugin) {
    if (auto *c = shm_->events.counter("swap", plugin, 0))
        c->fetch_add(1, std::memory_order_relaxed);
}

std::string Metrics::render(const std::vector<std::array<std::string, 3>> &plugins) const {
    // Gather and sort (std::map gives the order, and merges an overflow series with a real key
    // that happens to be spelled "other").
    std::map<std::pair<std::string, int>, std::uint64_t> requests;
    std::map<std::pair<std::string, int>, std::size_t> latency_slot;
    for (auto &s : shm_->requests.snapshot()) {
        latency_slot[{s.a, s.num}] = s.slot;
        requests[{std::move(s.a), s.num}] += s.count;
    }
    for (int st = 0; st < kOverflowStatuses; ++st)
        if (auto n = shm_->requests_overflow[st].load(std::memory_order_relaxed))
            requests[{"other", st}] += n;
    std::map<std::pair<std::string, std::string>, std::uint64_t> db_errors;
    for (auto &s : shm_->db_errors.snapshot())
        db_errors[{std::move(s.a), std::move(s.b)}] += s.count;
    if (auto n = shm_->db_errors_overflow.load(std::memory_order_relaxed))
        db_errors[{"other", "other"}] += n;
    // Narrowest bucket first, the count last: the reverse of observe() (see there).
    std::array<std::uint64_t, kBucketsUs.size()> buckets{};
    for (std::size_t i = 0; i < kBucketsUs.size(); ++i)
        buckets[i] = shm_->buckets[i].load(std::memory_order_acquire);
    const std::int64_t sum_us = shm_->sum_us.load(std::memory_order_relaxed);
    const std::uint64_t count = shm_->count.load(std::memory_order_acquire);

    std::map<std::pair<std::string, std::string>, std::uint64_t> events;
    for (auto &s : shm_->events.snapshot()) events[{std::move(s.a), std::move(s.b)}] += s.count;

    std::ostringstream out;
    out << "# HELP shopd_requests_total Requests served, by route pattern and status.\n"
           "# TYPE shopd_requests_total counter\n";
    for (const auto &[key, n] : requests)
        out << "shopd_requests_total{route=\"" << escape_label(key.first) << "\",status=\""
            << key.second << "\"} " << n << "\n";
    out << "# HELP shopd_request_duration_seconds Time from request accepted to response written.\n"
           "# TYPE shopd_request_duration_seconds histogram\n";
    for (std::size_t i = 0; i < kBucketsUs.size(); ++i)
        out << "shopd_request_duration_seconds_bucket{le=\"" << micros_as_seconds(kBucketsUs[i])
            << "\"} " << buckets[i] << "\n";
    out << "shopd_request_duration_seconds_bucket{le=\"+Inf\"} " << count << "\n"
        << "shopd_request_duration_seconds_sum " << micros_as_seconds(sum_us) << "\n"
        << "shopd_request_duration_seconds_count " << count << "\n";
    render_route_latency(out, latency_slot);
    out << "# HELP shopd_plugin_info Loaded plugin generations serving new requests.\n"
           "# TYPE shopd_plugin_info gauge\n";
    for (const auto &p : plugins)
        out << "shopd_plugin_info{name=\"" << escape_label(p[0]) << "\",version=\""
            << escape_label(p[1]) << "\",abi=\"" << escape_label(p[2]) << "\"} 1\n";
    out << "# HELP shopd_db_errors_total Database errors, by plugin and SQLSTATE.\n"
           "# TYPE shopd_db_errors_total counter\n";
    for (const auto &[key, n] : db_errors)
        out << "shopd_db_errors_total{plugin=\"" << escape_label(key.first) << "\",sqlstate=\""
            << escape_label(key.second) << "\"} " << n << "\n";
    render_events(out, events, "swap", "shopd_plugin_swaps_total",
                  "Reloads that put a changed plugin in service.", "plugin");
    return out.str();
}

}  // namespace shopd::host
