// The workers' side of shadow mode: after answering a GET that the shadowed plugin served, a
// worker copies the request and its answer into the shared queue. It never waits: with the
// queue full the request is counted as skipped, and the client had its answer before.
#include "fcgi_io.hpp"
#include "shadow.hpp"
#include "worker.hpp"

#include <chrono>

namespace shopd::host {

void Fleet::consider_shadow(const LoadedPlugin &plugin, bool is_admin,
                            std::chrono::steady_clock::time_point started,
                            ShadowOffer &offer) const {
    const std::uint64_t serial = shared_.shadow.serial.load(std::memory_order_acquire);
    if (serial == 0) return;
    // The shadowed plugin's name, read again only when another shadow starts.
    thread_local std::uint64_t known_serial = 0;
    thread_local std::string shadowed;
    if (known_serial != serial) {
        ShadowControl c{};
        shared_.shadow.control.read(c);
        shadowed = c.name;
        known_serial = serial;
    }
    if (plugin.name != shadowed) return;
    offer.plugin = plugin.name;
    offer.version = plugin.desc->version;
    offer.is_admin = is_admin;
    offer.handle_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
}

void Fleet::offer_shadow(const ShadowOffer &offer, const Incoming &in,
                         const shopd_response &resp) const {
    // Reads only: the candidate must never write what a client's request already wrote.
    if (in.method != "GET") return;
    ShadowShared &s = shared_.shadow;
    const std::uint64_t serial = s.serial.load(std::memory_order_acquire);
    if (serial == 0) return;
    thread_local ShadowJob job;  // 3 KB, filled for each offer
    if (in.path.size() >= sizeof job.path || in.query.size() >= sizeof job.query ||
        in.base_url.size() >= sizeof job.base_url || resp.body.size() > sizeof job.served_body) {
        s.stats.skipped.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    job.serial = serial;
    copy_text(job.method, in.method);
    copy_text(job.path, in.path);
    copy_text(job.query, in.query);
    copy_text(job.base_url, in.base_url);
    copy_text(job.served_version, offer.version);
    job.is_admin = offer.is_admin;  // the token itself never leaves its request
    job.served_status = resp.status;
    job.served_us = offer.handle_us;
    job.served_len = static_cast<std::uint32_t>(resp.body.size());
    std::memcpy(job.served_body, resp.body.data(), resp.body.size());
    if (!s.queue.push(job)) s.stats.skipped.fetch_add(1, std::memory_order_relaxed);
}

namespace {
std::string without_version(const std::string &body, const std::string &version) {
    if (version.empty()) return body;
    std::string out;
    out.reserve(body.size());
    std::size_t from = 0;
    for (std::size_t at; (at = body.find(version, from)) != std::string::npos;
         from = at + version.size())
        out.append(body, from, at - from).append("{version}");
    return out.append(body, from, std::string::npos);
}
}  // namespace

bool same_answer(int status_a, const std::string &body_a, const std::string &version_a,
                 int status_b, const std::string &body_b, const std::string &version_b) {
    return status_a == status_b &&
           without_version(body_a, version_a) == without_version(body_b, version_b);
}

}  // namespace shopd::host
