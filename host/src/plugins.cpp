// Plugin loading and atomic hot swap in a worker process.
#include "plugins.hpp"

#include "generations.hpp"
#include "log.hpp"

#include "shopd/sdk.hpp"

#include <dlfcn.h>

#include <stdexcept>

namespace shopd::host {

PluginRegistry::PluginRegistry(const shopd_host_api *api, LogFn log)
    : api_(api), log_(std::move(log)) {}

PluginRegistry::~PluginRegistry() { shutdown_all(); }

void PluginRegistry::shutdown_all() {
    std::shared_ptr<const Snapshot> last;
    {
        std::lock_guard<std::mutex> lock(snapshot_mu_);
        last = std::move(current_);
    }
    if (!last) return;
    // Later plugins may call services of earlier ones (cart -> pricing): they go first.
    auto plugins = last->plugins;
    last.reset();
    while (!plugins.empty()) plugins.pop_back();
}

std::shared_ptr<LoadedPlugin> PluginRegistry::load_one(const ManifestEntry &entry,
                                                       std::string &error) {
    const std::string name = entry.name;
    const std::string where =
        std::string(entry.source) + " (generation " + std::to_string(entry.serial) + ")";
    void *dl = dlopen(entry.copy, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        error = where + ": " + dlerror();
        return nullptr;
    }
    const std::string symbol = name + SHOPD_PLUGIN_ENTRY_SUFFIX;
    auto entry_fn = reinterpret_cast<shopd_plugin_entry_fn>(dlsym(dl, symbol.c_str()));
    const shopd_plugin *desc = nullptr;
    try {
        if (entry_fn) desc = entry_fn();
    } catch (...) {
        error = where + ": entry point threw: " + describe_current_exception();
        dlclose(dl);
        return nullptr;
    }
    // The master checked this file; a second look costs nothing and keeps a bad copy out.
    const std::string why = entry_fn ? check_descriptor(desc, name) : "no entry point " + symbol;
    if (!why.empty()) {
        error = where + ": refused: " + why;
        dlclose(dl);
        return nullptr;
    }
    auto plugin = std::make_shared<LoadedPlugin>(entry, dl, desc);
    if (!plugin->init(api_, error)) {
        error = where + ": " + error;
        return nullptr;  // ~LoadedPlugin dlcloses; shutdown is skipped as init failed
    }
    return plugin;
}

std::shared_ptr<const Snapshot> PluginRegistry::assemble(
    std::vector<std::shared_ptr<LoadedPlugin>> plugins) const {
    auto snap = std::make_shared<Snapshot>();
    for (std::size_t i = 0; i < plugins.size(); ++i) {
        const shopd_plugin *d = plugins[i]->desc;
        for (std::size_t r = 0; r < d->route_count; ++r)
            snap->router.add(d->routes[r].method, d->routes[r].pattern, i, d->routes[r].id);
        for (std::size_t s = 0; s < d->service_count; ++s)
            if (!snap->services.emplace(d->services[s], i).second)
                throw std::invalid_argument(std::string("service ") + d->services[s] +
                                            " offered twice");
    }
    for (const auto &p : plugins)
        for (std::size_t r = 0; r < p->desc->required_count; ++r)
            if (!snap->services.count(p->desc->required_services[r]))
                throw std::invalid_argument("plugin " + p->name + " requires service \"" +
                                            p->desc->required_services[r] +
                                            "\", which no loaded plugin offers");
    snap->plugins = std::move(plugins);
    return snap;
}

void PluginRegistry::publish(std::shared_ptr<const Snapshot> next) {
    std::shared_ptr<const Snapshot> old;
    {
        std::lock_guard<std::mutex> lock(snapshot_mu_);
        old = std::move(current_);
        current_ = std::move(next);
    }
    // `old` is released here, outside the lock: if no request holds it, replaced plugins are
    // shut down now; otherwise by the last request that does.
}

std::shared_ptr<const Snapshot> PluginRegistry::snapshot() const {
    std::lock_guard<std::mutex> lock(snapshot_mu_);
    return current_;
}

ReloadOutcome PluginRegistry::apply(const Manifest &manifest) {
    std::lock_guard<std::mutex> lock(apply_mu_);
    ReloadOutcome outcome;
    const auto current = snapshot();
    std::vector<std::shared_ptr<LoadedPlugin>> next;
    for (std::uint32_t i = 0; i < manifest.count; ++i) {
        const ManifestEntry &entry = manifest.entries[i];
        std::shared_ptr<LoadedPlugin> serving;
        if (current)
            for (const auto &p : current->plugins)
                if (p->name == entry.name) serving = p;
        if (serving && serving->serial == entry.serial) {
            outcome.unchanged.emplace_back(entry.name);
            next.push_back(std::move(serving));
            continue;
        }
        std::string error;
        auto fresh = entry.serial == 0 ? nullptr : load_one(entry, error);
        if (fresh) {
            auto candidate = next;
            candidate.push_back(fresh);
            try {
                (void)assemble(candidate);  // routes/services of the new generation must not clash
            } catch (const std::exception &e) {
                fresh.reset();
                error = std::string(entry.source) + ": refused: " + e.what();
            }
        }
        if (!fresh) {
            if (entry.serial == 0) error = std::string(entry.name) + ": no generation adopted";
            log_(2, "plugin refused, keeping what serves: " + error);
            outcome.refused.emplace_back(entry.name, error);
            if (serving) next.push_back(std::move(serving));
            continue;
        }
        log_(0, "plugin " + fresh->name + " " + fresh->desc->version + " serving (generation " +
                    std::to_string(fresh->serial) + ")");
        outcome.reloaded.emplace_back(entry.name);
        next.push_back(std::move(fresh));
    }
    if (!current && !outcome.refused.empty()) return outcome;  // a worker that cannot start
    try {
        publish(assemble(std::move(next)));
    } catch (const std::exception &e) {
        outcome.refused.emplace_back("(all)", e.what());
    }
    return outcome;
}

}  // namespace shopd::host
