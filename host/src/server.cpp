// The epoll loop of the worker threads and the request pipeline.
#include "server.hpp"

#include "builtins.hpp"
#include "crash_guard.hpp"
#include "etag.hpp"
#include "fcgi_io.hpp"
#include "host_api.hpp"
#include "log.hpp"
#include "notify.hpp"
#include "shadow.hpp"
#include "upgrade.hpp"
#include "worker_db.hpp"

#include <fcgiapp.h>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

namespace shopd::host {
namespace {

using Clock = std::chrono::steady_clock;

/// New connections accepted per wake-up of the listening socket (see next_connection()).
constexpr int kAcceptBatch = 128;

}  // namespace

Server::Server(const Config &config, const AdminTokens &admins, PluginRegistry &registry,
               Metrics &metrics, Fleet &fleet, int listen_fd)
    : config_(config), admins_(admins), registry_(registry), metrics_(metrics), fleet_(fleet),
      cors_(config.cors_origins), listen_fd_(listen_fd) {}

int Server::run() {
    // Workers accept themselves (non-blocking, from a shared epoll set that also holds parked
    // kept-alive connections); EPOLLEXCLUSIVE wakes one worker per new connection, not all.
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.fd = listen_fd_;
    if (epoll_fd_ < 0 || epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) != 0) {
        log_line(2, "host", std::string("epoll setup failed: ") + std::strerror(errno));
        return 1;
    }
    log_line(0, "host", "serving with " + std::to_string(config_.workers) + " threads");
    std::vector<std::thread> threads;
    for (unsigned i = 0; i < config_.workers; ++i) threads.emplace_back([this] { worker_loop(); });
    for (auto &t : threads) t.detach();
    // After stop() threads answer what arrives on their connections and leave once no
    // connection is left parked (drain::close_idle closes them while idle); wait up to 10 s for
    // them, then let process exit end the rest.
    while (!stopping_) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (int i = 0; i < 200 && (in_flight_ > 0 || loops_ > 0); ++i) {
        (void)drain::close_idle();  // also while every thread is busy
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    log_line(0, "host", "stopped");
    return 0;
}

void Server::stop() {
    if (stopping_.exchange(true)) return;
    FCGX_ShutdownPending();
    // Not shutdown(): the socket is shared, and the other processes keep accepting from it.
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
}

/// Waits for work: a new connection on the listening socket or a parked kept-alive one that
/// became readable. Returns the connection's fd and whether it is new (-1: nothing yet).
std::pair<int, bool> Server::next_connection() {
    heartbeat::beat();  // the master feeds systemd's watchdog only while every worker beats
    epoll_event ev{};
    if (epoll_wait(epoll_fd_, &ev, 1, 200) != 1) return {-1, false};
    const int fd = ev.data.fd;  // a copy: epoll_event is packed
    if (fd != listen_fd_) return {drain::taken(fd) ? fd : -1, false};
    // New connections join the epoll set behind the ones already waiting, in arrival order, a
    // bounded batch at a time: serving each new connection at once gave the listening socket
    // one turn per round of ready kept-alive connections, and under a burst of new connections
    // some waited seconds. (Losers of a wake-up get EAGAIN at once and wait again.)
    for (int i = 0; i < kAcceptBatch; ++i) {
        const int conn = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn < 0) break;
        park(conn, true);
    }
    return {-1, false};
}

/// Hands an idle kept-alive connection back to the shared epoll set, so no worker thread sits
/// blocked on it. (libfcgi would otherwise pin the thread to the connection until nginx closes
/// it: with more upstream connections than workers, new connections then starve and p99
/// explodes; see ../shared/BASELINES.md.) EPOLLONESHOT: exactly one worker gets its next request.
void Server::park(int fd, bool is_new) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLONESHOT | EPOLLRDHUP;
    ev.data.fd = fd;
    drain::parked(fd);  // before epoll can hand it to another thread
    if (epoll_ctl(epoll_fd_, is_new ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) != 0 &&
        drain::taken(fd))
        close(fd);
}

void Server::worker_loop() {
    prepare_thread_for_crashes();
    WorkerDb db(config_.database_url, config_.lock_timeout_ms, config_.statement_timeout_ms);
    Builtins builtins(admins_, registry_, metrics_, fleet_);
    FCGX_Request r;
    FCGX_InitRequest(&r, listen_fd_, 0);
    ++loops_;
    for (;;) {
        const auto [fd, is_new] = next_connection();
        // Draining (after stop()): requests already on our connections are still answered; a
        // thread leaves once nothing arrived for one epoll timeout.
        if (fd < 0) {
            // Draining: idle parked connections are closed here, not left to process exit.
            if (stopping_ && drain::close_idle() == 0) break;
            continue;
        }
        // Give libfcgi the connection we picked; keepConnection stops it closing the fd before
        // it has read the request (it closes on EOF or when nginx asked not to keep it).
        r.ipcFd = fd;
        r.keepConnection = 1;
        if (FCGX_Accept_r(&r) < 0)
            continue;  // nginx closed the idle connection; libfcgi closed the fd
        // On EOF of a parked connection libfcgi may accept a fresh one itself: new to epoll too.
        const bool fresh = is_new || r.ipcFd != fd;
        serve_one(r, db, builtins);
        // Answered, then closed: nginx stops reusing it. Not in a gentle drain (upgrade): closed
        // right after an answer (libfcgi even reads and drops what follows), nginx may already
        // have sent the next request on it; drain::close_idle closes it once nginx left it idle.
        if (stopping_ && !drain::gentle()) r.keepConnection = 0;
        FCGX_Finish_r(&r);
        if (r.ipcFd >= 0) park(r.ipcFd, fresh);
        r.ipcFd = -1;
    }
    --loops_;
}

void Server::serve_one(FCGX_Request &r, WorkerDb &db, Builtins &builtins) {
    ++in_flight_;
    const auto start = Clock::now();
    Incoming in = read_incoming(r);
    if (!config_.public_url.empty()) in.base_url = config_.public_url;
    shopd_response resp;
    std::string route = "unmatched";
    ShadowOffer offer;
    if (!read_body(r, in, config_.max_body_bytes))
        set_problem(resp, 413,
                    "Request body exceeds " + std::to_string(config_.max_body_bytes) + " bytes.");
    else if (cors_.answer_preflight(in, resp))
        route = "OPTIONS (CORS preflight)";
    else if (!builtins.serve(in, db, resp, route)) {
        // Nothing of the answer is written yet: a crash in the plugin can still answer 500.
        const CrashGuard guard(r.ipcFd, r.requestId, in.request_id);
        dispatch(in, db, resp, route, offer);
    }
    apply_conditional_get(in, resp);
    cors_.decorate(in, resp);
    write_response(r, in, resp);
    if (!offer.plugin.empty()) fleet_.offer_shadow(offer, in, resp);  // after answering
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    metrics_.observe(route, resp.status, micros);
    const ProblemSummary problem = resp.status >= 400 ? summarize_problem(resp) : ProblemSummary{};
    log_request(in.wire_method(), printable(in.path), resp.status, micros, in.request_id,
                problem.title, problem.fields);
    --in_flight_;
    if (config_.max_requests && ++served_ == config_.max_requests) {
        log_line(0, "host", "served " + std::to_string(served_) + " requests: recycling");
        stop();
    }
}

/// Routes one request to its plugin. When the plugin reports a broken connection, the worker
/// reconnects; if nothing of the request reached the server (or it only reads), it runs once
/// more on the fresh connection, so a connection that died while idle fails no request.
void Server::dispatch(const Incoming &in, WorkerDb &db, shopd_response &resp, std::string &route,
                      ShadowOffer &offer) {
    const auto snap = registry_.snapshot();
    if (!snap) return set_problem(resp, 503, "The server is shutting down.");
    const Match m = snap->router.match(in.method, in.path);
    if (m.status == MatchStatus::not_found)
        return set_problem(resp, 404, "No route for " + printable(in.path));
    if (m.status == MatchStatus::method_not_allowed) {
        set_problem(resp, 405, "Method \"" + printable(in.wire_method()) + "\" not allowed.");
        resp.headers.emplace_back("Allow", m.allow);
        return;
    }
    route = m.route->method + " " + m.route->pattern;
    std::vector<const char *> params;
    for (const auto &p : m.params) params.push_back(p.c_str());
    HostRequest hr{snap};
    shopd_request req = plugin_request(in, params, admins_.matches(in.bearer), hr);
    const LoadedPlugin &plugin = *snap->plugins[m.route->owner];
    const auto started = Clock::now();
    for (int attempt = 1;; ++attempt) {
        req.db = db.get();
        hr.connection_lost = hr.retry_safe = false;
        resp = shopd_response{};
        plugin.handle(m.route->id, req, resp);
        if (!hr.connection_lost)
            return fleet_.consider_shadow(plugin, req.is_admin != 0, started, offer);
        db.reset();
        const bool again = attempt == 1 && req.db && (hr.retry_safe || in.method == "GET");
        if (!again) return;
        log_line(
            1, "host",
            "request " + in.request_id + " found its database connection broken; retrying once");
    }
}

}  // namespace shopd::host
