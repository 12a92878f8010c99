// The functions the host hands to plugins (shopd_host_api), and what they need to know about
// the request a plugin is serving.
#pragma once

#include "config.hpp"
#include "metrics.hpp"
#include "plugins.hpp"

#include <memory>
#include <vector>

namespace shopd::host {

/// Host-side state of one request, reached by the host API through shopd_request.host_ctx.
struct HostRequest {
    /// The plugin set the request started with, so a service call stays on the same generation.
    std::shared_ptr<const Snapshot> snapshot;
    /// Set by connection_lost(): the worker replaces its connection after this request ...
    bool connection_lost = false;
    /// ... and may run the request again, as no statement of it reached the server.
    bool retry_safe = false;
};

struct Incoming;

/// The C view of request `in` for a plugin's handle(): `params` are the route's captures.
shopd_request plugin_request(const Incoming &in, const std::vector<const char *> &params,
                             bool is_admin, HostRequest &hr);

/// The host functions plugins call (set_status, call_service, config, ...).
const shopd_host_api *host_api();

/// Installs the config and metrics the host API functions answer from (set once at start-up).
void install_host_globals(const Config *config, Metrics *metrics);

}  // namespace shopd::host
