// The host's own routes, answered without a plugin: /healthz, /readyz, /metrics and the plugin
// admin endpoints.
#pragma once

#include "admin_tokens.hpp"
#include "config.hpp"
#include "fcgi_io.hpp"
#include "metrics.hpp"
#include "plugins.hpp"
#include "worker.hpp"
#include "worker_db.hpp"

#include <string>

namespace shopd::host {

class Builtins {
public:
    Builtins(const AdminTokens &admins, PluginRegistry &registry, Metrics &metrics, Fleet &fleet)
        : admins_(admins), registry_(registry), metrics_(metrics), fleet_(fleet) {}

    /// Serves the request if its path is a built-in one (setting `route` for metrics); returns
    /// false otherwise.
    bool serve(const Incoming &in, WorkerDb &db, shopd_response &resp, std::string &route);

private:
    void healthz(const Incoming &, WorkerDb &, shopd_response &resp);
    void readyz(const Incoming &, WorkerDb &db, shopd_response &resp);
    void metrics(const Incoming &, WorkerDb &, shopd_response &resp);
    void list_plugins(const Incoming &in, WorkerDb &, shopd_response &resp);
    void reload_plugins(const Incoming &in, WorkerDb &, shopd_response &resp);
    void rollback_plugin(const Incoming &in, WorkerDb &, shopd_response &resp);
    void promote_plugin(const Incoming &in, WorkerDb &, shopd_response &resp);
    void start_shadow(const Incoming &in, WorkerDb &, shopd_response &resp);
    void stop_shadow(const Incoming &in, WorkerDb &, shopd_response &resp);
    void plugin_command(const Incoming &in, shopd_response &resp, const char *op,
                        const std::string &arg);
    std::string plugin_metrics(const std::shared_ptr<const Snapshot> &snap, WorkerDb &db);
    bool matches(const std::string &pattern, const std::string &path);
    bool require_admin(const Incoming &in, shopd_response &resp);

    const AdminTokens &admins_;
    PluginRegistry &registry_;
    Metrics &metrics_;
    Fleet &fleet_;
    std::string plugin_name_;  ///< the {name} of an admin plugin route
};

}  // namespace shopd::host
