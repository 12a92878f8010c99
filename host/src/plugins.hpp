// Plugin loading and hot swap. Each plugin generation is a reference-counted LoadedPlugin; the
// set serving new requests is an immutable Snapshot published atomically. A request holds the
// snapshot it started with, so it finishes on the code it began on, and a replaced generation is
// shut down and dlclose()d when its last request lets go.
#pragma once

#include "router.hpp"
#include "shopd/plugin.h"

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace shopd::host {

/// Identity of a plugin file on disk; a replaced (renamed-over) file gets a new one.
struct FileIdentity {
    dev_t dev = 0;
    ino_t ino = 0;
    long long mtime_ns = 0;
    off_t size = 0;
    bool operator==(const FileIdentity &o) const {
        return dev == o.dev && ino == o.ino && mtime_ns == o.mtime_ns && size == o.size;
    }
};

/// One loaded generation of one plugin. Every call into its code goes through here and is
/// guarded: an exception escaping the plugin (the ABI forbids it, but a plugin is foreign code)
/// fails that one call, never the host.
class LoadedPlugin {
public:
    LoadedPlugin(std::string name, std::string path, FileIdentity id, void *dl,
                 const shopd_plugin *desc);
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
    const std::string path;  ///< the configured file (what operators replace)
    const FileIdentity identity;
    const shopd_plugin *const desc;
    std::string loaded_at;  ///< RFC 3339

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

class PluginRegistry {
public:
    /// `copies_parent`: where the private copy of each generation is made (must allow exec: a
    /// noexec /tmp would refuse every load); empty: the system temp dir.
    PluginRegistry(std::string dir, std::vector<std::string> names, const shopd_host_api *api,
                   LogFn log, const std::string &copies_parent = "");
    ~PluginRegistry();

    /// Loads every configured plugin; returns the reasons of those refused (empty: all loaded).
    std::vector<std::string> load_all();
    /// Reloads every plugin whose file changed since it was loaded. A refused file leaves the
    /// old generation serving. Serialised: concurrent reloads run one after the other.
    ReloadOutcome reload();
    /// The set serving new requests now.
    std::shared_ptr<const Snapshot> snapshot() const;
    /// Shuts the plugins down in reverse load order (at exit, after the workers stopped); a
    /// generation still held by a request is shut down when that request lets go.
    void shutdown_all();
    /// Removes the private copy directory (at exit, when destructors will not run).
    void remove_generation_dir();

private:
    std::shared_ptr<LoadedPlugin> load_one(const std::string &name, std::string &error);
    std::shared_ptr<const Snapshot> assemble(
        std::vector<std::shared_ptr<LoadedPlugin>> plugins) const;
    void publish(std::shared_ptr<const Snapshot> next);

    const std::string dir_;
    const std::vector<std::string> names_;
    const shopd_host_api *api_;
    LogFn log_;
    std::string
        generation_dir_;  ///< private copies: dlopen() caches by path, so each gen gets its own
    std::uint64_t copies_ = 0;

    std::mutex reload_mu_;
    mutable std::mutex snapshot_mu_;
    std::shared_ptr<const Snapshot> current_;
};

}  // namespace shopd::host
