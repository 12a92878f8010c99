// The FastCGI side of the host: worker threads, one database connection each, and the request
// pipeline (request id, limits, routing, plugin call, response, log line, metrics).
#pragma once

#include "config.hpp"
#include "metrics.hpp"
#include "plugins.hpp"

#include <atomic>
#include <string>
#include <utility>
#include <vector>

/// Response being built by a handler; opaque to plugins, filled through shopd_host_api.
struct shopd_response {
    int status = 0;
    std::string content_type;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

typedef struct FCGX_Request FCGX_Request;

namespace shopd::host {

struct WorkerState;
class Builtins;

/// What the host API functions need to know about the request a plugin is serving: the plugin
/// snapshot the request started with, so a service call stays on the same generation.
struct HostRequest {
    std::shared_ptr<const Snapshot> snapshot;
};

/// Writes one structured JSON log line to stderr (levels: 0 info, 1 warn, 2 error).
void log_line(int level, const std::string &source, const std::string &message);

/// The host functions plugins call (set_status, call_service, config, ...).
const shopd_host_api *host_api();

class Server {
public:
    Server(const Config &config, PluginRegistry &registry, Metrics &metrics);
    /// Opens the socket and serves until stop(); returns a process exit code.
    int run();
    /// Stops accepting; in-flight requests finish.
    void stop();

private:
    void worker_loop(unsigned index);
    std::pair<int, bool> next_connection();
    void park(int fd, bool is_new);
    void serve_one(FCGX_Request &r, WorkerState &worker, Builtins &builtins);

    const Config &config_;
    PluginRegistry &registry_;
    Metrics &metrics_;
    int listen_fd_ = -1;
    int epoll_fd_ = -1;  ///< listening socket + idle kept-alive connections
    std::atomic<bool> stopping_{false};
    std::atomic<int> in_flight_{0};
};

/// Installs the config and metrics the host API functions answer from (set once at start-up).
void install_host_globals(const Config *config, Metrics *metrics);

}  // namespace shopd::host
