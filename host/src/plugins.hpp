// Plugin loading and hot swap. Each plugin generation is a reference-counted LoadedPlugin; the
// set serving new requests is an immutable Snapshot published atomically. A request holds the
// snapshot it started with, so it finishes on the code it began on, and a replaced generation is
// shut down and dlclose()d when its last request lets go.
#pragma once

#include "router.hpp"
#include "shared_state.hpp"
#include "shopd/plugin.h"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace shopd::host {

/// One loaded generation of one plugin. Every call into its code goes through here and is
/// guarded: an exception escaping the plugin (the ABI forbids it, but a plugin is foreign code)
/// fails that one call, never the host.
class LoadedPlugin {
public:
    LoadedPlugin(const ManifestEntry &entry, void *dl, const shopd_plugin *desc);
    ~LoadedPlugin();  ///< shutdown() then dlclose(): runs after the last request let go
    LoadedPlugin(const LoadedPlugin &) = delete;
    LoadedPlugin &operator=(const LoadedPlugin &) = delete;

    /// Calls init(); false (with the reason in `error`) when it fails or throws.
    bool init(const shopd_host_api *api, std::string &error);
    /// Serves route `route_id`; an escaping exception or no answer becomes a 500 problem.
    void handle(int route_id, const shopd_request &req, shopd_response &resp) const noexcept;
    /// Serves a service call, guarded the same way.
    void serve(const char *service, const shopd_request &req, shopd_response &resp) const noexcept;

    const std::string name;
    const std::string path;       ///< the configured file (what operators replace)
    const std::uint64_t serial;   ///< the generation (ManifestEntry::serial)
    const std::string loaded_at;  ///< when the master adopted the generation (RFC 3339)
    const shopd_plugin *const desc;

private:
    void *state_ = nullptr;  ///< from init()
    bool initialised_ = false;
    void *dl_;
};

/// Inside a catch block: what the exception in flight says about itself.
std::string describe_current_exception();

struct Snapshot {
    std::vector<std::shared_ptr<LoadedPlugin>> plugins;
    Router router;                                ///< Route::owner indexes plugins
    std::map<std::string, std::size_t> services;  ///< service name -> plugin index
};

struct ReloadOutcome {
    std::vector<std::string> reloaded;
    std::vector<std::string> unchanged;
    std::vector<std::pair<std::string, std::string>> refused;  ///< (name, reason)
};

using LogFn = std::function<void(int level, const std::string &message)>;

/// The plugins serving in this worker process: the generations the master's manifest names.
class PluginRegistry {
public:
    PluginRegistry(const shopd_host_api *api, LogFn log);
    ~PluginRegistry();

    /// Makes the manifest's generations serve: loads each one that differs from what serves now
    /// and publishes the new set at once. A refused generation leaves the old one serving (at
    /// start there is none: the refusal is in the outcome). Serialised.
    ReloadOutcome apply(const Manifest &manifest);
    /// The set serving new requests now.
    std::shared_ptr<const Snapshot> snapshot() const;
    /// Shuts the plugins down in reverse load order (at exit, after the workers stopped); a
    /// generation still held by a request is shut down when that request lets go.
    void shutdown_all();

private:
    std::shared_ptr<LoadedPlugin> load_one(const ManifestEntry &entry, std::string &error);
    std::shared_ptr<const Snapshot> assemble(
        std::vector<std::shared_ptr<LoadedPlugin>> plugins) const;
    void publish(std::shared_ptr<const Snapshot> next);

    const shopd_host_api *api_;
    LogFn log_;
    std::mutex apply_mu_;
    mutable std::mutex snapshot_mu_;
    std::shared_ptr<const Snapshot> current_;
};

}  // namespace shopd::host
