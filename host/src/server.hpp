// The FastCGI side of the host: worker threads waiting on one epoll set, one database
// connection each, and the request pipeline (limits, built-ins, routing, plugin call, response,
// log line, metrics).
#pragma once

#include "admin_tokens.hpp"
#include "config.hpp"
#include "cors.hpp"
#include "metrics.hpp"
#include "plugins.hpp"

#include <atomic>
#include <utility>

typedef struct FCGX_Request FCGX_Request;

namespace shopd::host {

class Builtins;
struct ShadowOffer;
class Fleet;
class WorkerDb;
struct Incoming;

class Server {
public:
    /// `listen_fd`: the listening socket, shared with the other worker processes.
    Server(const Config &config, const AdminTokens &admins, PluginRegistry &registry,
           Metrics &metrics, Fleet &fleet, int listen_fd);
    /// Serves until stop(); returns a process exit code.
    int run();
    /// Stops accepting (this process only); in-flight requests finish.
    void stop();

private:
    void worker_loop();
    std::pair<int, bool> next_connection();
    void park(int fd, bool is_new);
    void serve_one(FCGX_Request &r, WorkerDb &db, Builtins &builtins);
    void dispatch(const Incoming &in, WorkerDb &db, shopd_response &resp, std::string &route,
                  ShadowOffer &offer);

    const Config &config_;
    const AdminTokens &admins_;
    PluginRegistry &registry_;
    Metrics &metrics_;
    Fleet &fleet_;
    const Cors cors_;
    const int listen_fd_;
    int epoll_fd_ = -1;  ///< listening socket + idle kept-alive connections
    std::atomic<bool> stopping_{false};
    std::atomic<int> in_flight_{0};
    std::atomic<int> loops_{0};  ///< threads still in worker_loop (they drain, then leave)
    std::atomic<std::uint64_t> served_{0};  ///< for --max-requests
};

}  // namespace shopd::host
