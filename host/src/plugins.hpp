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

/// One loaded generation of one plugin.
class LoadedPlugin {
public:
    LoadedPlugin(std::string name, std::string path, FileIdentity id, void *dl, const shopd_plugin *desc);
    ~LoadedPlugin();  ///< shutdown() then dlclose(): runs after the last request let go
    LoadedPlugin(const LoadedPlugin &) = delete;
    LoadedPlugin &operator=(const LoadedPlugin &) = delete;

    const std::string name;
    const std::string path;      ///< the configured file (what operators replace)
    const FileIdentity identity;
    const shopd_plugin *const desc;
    void *state = nullptr;       ///< from init()
    std::string loaded_at;       ///< RFC 3339
    bool initialised = false;

private:
    void *dl_;
};

struct Snapshot {
    std::vector<std::shared_ptr<LoadedPlugin>> plugins;
    Router router;                               ///< Route::owner indexes plugins
    std::map<std::string, std::size_t> services; ///< service name -> plugin index
    std::uint64_t generation = 0;
};

struct ReloadOutcome {
    std::vector<std::string> reloaded;
    std::vector<std::string> unchanged;
    std::vector<std::pair<std::string, std::string>> refused;  ///< (name, reason)
};

using LogFn = std::function<void(int level, const std::string &message)>;

class PluginRegistry {
public:
    PluginRegistry(std::string dir, std::vector<std::string> names, const shopd_host_api *api, LogFn log);
    ~PluginRegistry();

    /// Loads every configured plugin; returns the reasons of those refused (empty: all loaded).
    std::vector<std::string> load_all();
    /// Reloads every plugin whose file changed since it was loaded. A refused file leaves the
    /// old generation serving. Serialised: concurrent reloads run one after the other.
    ReloadOutcome reload();
    /// The set serving new requests now.
    std::shared_ptr<const Snapshot> snapshot() const;
    /// Drops every generation (at exit, after the workers stopped).
    void clear();
    /// Removes the private copy directory (at exit, when destructors will not run).
    void remove_generation_dir();

private:
    std::shared_ptr<LoadedPlugin> load_one(const std::string &name, std::string &error);
    std::shared_ptr<const Snapshot> assemble(std::vector<std::shared_ptr<LoadedPlugin>> plugins) const;
    void publish(std::shared_ptr<const Snapshot> next);

    const std::string dir_;
    const std::vector<std::string> names_;
    const shopd_host_api *api_;
    LogFn log_;
    std::string generation_dir_;  ///< private copies: dlopen() caches by path, so each gen gets its own
    std::uint64_t copies_ = 0;

    std::mutex reload_mu_;
    mutable std::mutex snapshot_mu_;
    std::shared_ptr<const Snapshot> current_;
};

/// RFC 3339 UTC timestamp of now, millisecond precision.
std::string now_rfc3339();

}  // namespace shopd::host
