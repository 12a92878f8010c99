// Test support: hot swap of a plugin in the running stack, as an operator does it: install a
// build as $SHOPD_PLUGIN_DIR/<name>.so (copy + rename), then POST /api/admin/plugins/reload/.
#pragma once

#include "http_client.hpp"

#include <rapidjson/document.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace shopd::test {

/// Puts the module `so` in place as $SHOPD_PLUGIN_DIR/<name>.so: a copy under a temporary name
/// in that directory, then rename(), so the host never sees a partial file.
void install_plugin(const std::string &so, const std::string &name);

/// POST /api/admin/plugins/reload/ with the admin token; asserts 200 and returns the outcome
/// {"reloaded":[...],"unchanged":[...],"refused":[{"name","error"}],"plugins":[...]}.
rapidjson::Document reload_plugins(Http &admin);

/// Whether the JSON array of strings `names` (e.g. outcome["reloaded"]) holds `name`.
bool lists_name(const rapidjson::Value &names, const std::string &name);

/// The error a reload outcome gives for `name` under "refused", or "" if it is not there.
std::string refusal_of(const rapidjson::Value &outcome, const std::string &name);

/// Version of plugin `name` that GET /api/admin/plugins/ lists now ("" if none).
std::string plugin_version(Http &admin, const std::string &name);

/// Puts a known build back as <name>.so: restore() does it and asserts the reload swapped it
/// in; if that never ran (a failed assertion in between), the destructor does it best-effort, so
/// even a failed test leaves later tests a working plugin.
class PluginRestore {
public:
    PluginRestore(std::string name, std::string so) : name_(std::move(name)), so_(std::move(so)) {}
    ~PluginRestore();
    PluginRestore(const PluginRestore &) = delete;
    PluginRestore &operator=(const PluginRestore &) = delete;

    /// Installs the build, reloads, asserts the plugin was reloaded; returns the outcome.
    rapidjson::Document restore(Http &admin);

private:
    std::string name_, so_;
    bool done_ = false;
};

/// Stops and joins background threads (the load kept up during a swap) on every way out of a
/// scope, so no thread outlives what it writes to.
struct Joiner {
    std::atomic<bool> &stop;
    std::vector<std::thread> &threads;
    ~Joiner() {
        stop = true;
        for (auto &t : threads)
            if (t.joinable()) t.join();
    }
};

}  // namespace shopd::test
