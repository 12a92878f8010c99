// Plugin loading, validation and atomic hot swap.
#include "plugins.hpp"

#include "log.hpp"

#include "shopd/sdk.hpp"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace fs = std::filesystem;

namespace shopd::host {

PluginRegistry::PluginRegistry(std::string dir, std::vector<std::string> names,
                               const shopd_host_api *api, LogFn log,
                               const std::string &copies_parent)
    : dir_(std::move(dir)), names_(std::move(names)), api_(api), log_(std::move(log)) {
    const fs::path parent =
        copies_parent.empty() ? fs::temp_directory_path() : fs::path(copies_parent);
    std::error_code ec;
    fs::create_directories(parent, ec);
    std::string tmpl = (parent / "shopd-plugins-XXXXXX").string();
    if (!mkdtemp(tmpl.data()))
        throw std::runtime_error("cannot create a plugin generation directory in " +
                                 parent.string() + ": " + std::strerror(errno));
    generation_dir_ = tmpl;
}

PluginRegistry::~PluginRegistry() {
    shutdown_all();
    remove_generation_dir();
}

void PluginRegistry::remove_generation_dir() {
    std::error_code ec;
    fs::remove_all(generation_dir_, ec);
}

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

namespace {

bool identify(const std::string &path, FileIdentity &out) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return false;
    out = FileIdentity{st.st_dev, st.st_ino, st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec,
                       st.st_size};
    return true;
}

/// Why `d` is unacceptable to this host, or "" when it is fine.
std::string check_descriptor(const shopd_plugin *d, const std::string &name) {
    if (!d) return "entry point returned no descriptor";
    if (d->struct_size != sizeof(shopd_plugin))
        return "descriptor size " + std::to_string(d->struct_size) +
               " != " + std::to_string(sizeof(shopd_plugin));
    if (d->abi_version != SHOPD_PLUGIN_ABI_VERSION)
        return "ABI version " + std::to_string(d->abi_version) + ", host speaks " +
               std::to_string(SHOPD_PLUGIN_ABI_VERSION);
    if (!d->build_signature || std::strcmp(d->build_signature, SHOPD_BUILD_SIGNATURE) != 0)
        return std::string("build signature \"") +
               (d->build_signature ? d->build_signature : "(null)") +
               "\" differs from the host's \"" SHOPD_BUILD_SIGNATURE "\"";
    if (!d->name || name != d->name)
        return "descriptor names plugin \"" + std::string(d->name ? d->name : "") + "\"";
    if (!d->version || !d->handle || !d->init) return "descriptor lacks version, init or handle";
    if (d->service_count > 0 && !d->serve) return "descriptor offers services but no serve()";
    return "";
}

}  // namespace

std::shared_ptr<LoadedPlugin> PluginRegistry::load_one(const std::string &name,
                                                       std::string &error) {
    const std::string path = (fs::path(dir_) / (name + ".so")).string();
    FileIdentity id;
    if (!identify(path, id)) {
        error = path + ": " + std::strerror(errno);
        return nullptr;
    }
    // glibc's dlopen returns the already-loaded handle for a path it has open, even when the file
    // was replaced; a private copy per generation makes every load really load the new code.
    const std::string copy = generation_dir_ + "/" + name + "." + std::to_string(++copies_) + ".so";
    std::error_code ec;
    fs::copy_file(path, copy, fs::copy_options::overwrite_existing, ec);
    if (ec) {
        error = path + ": copy failed: " + ec.message();
        return nullptr;
    }
    void *dl = dlopen(copy.c_str(), RTLD_NOW | RTLD_LOCAL);
    unlink(copy.c_str());  // the mapping stays; nothing to clean up later
    if (!dl) {
        error = path + ": " + dlerror();
        return nullptr;
    }
    const std::string symbol = name + SHOPD_PLUGIN_ENTRY_SUFFIX;
    auto entry = reinterpret_cast<shopd_plugin_entry_fn>(dlsym(dl, symbol.c_str()));
    if (!entry) {
        error = path + ": no entry point " + symbol;
        dlclose(dl);
        return nullptr;
    }
    const shopd_plugin *desc = nullptr;
    try {
        desc = entry();
    } catch (...) {
        error = path + ": entry point threw: " + describe_current_exception();
        dlclose(dl);
        return nullptr;
    }
    const std::string why = check_descriptor(desc, name);
    if (!why.empty()) {
        error = path + ": refused: " + why;
        dlclose(dl);
        return nullptr;
    }
    auto plugin = std::make_shared<LoadedPlugin>(name, path, id, dl, desc);
    if (!plugin->init(api_, error)) {
        error = path + ": " + error;
        return nullptr;  // ~LoadedPlugin dlcloses; shutdown is skipped as init failed
    }
    plugin->loaded_at = now_rfc3339();
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

std::vector<std::string> PluginRegistry::load_all() {
    std::lock_guard<std::mutex> lock(reload_mu_);
    std::vector<std::string> errors;
    std::vector<std::shared_ptr<LoadedPlugin>> loaded;
    for (const auto &name : names_) {
        std::string error;
        if (auto p = load_one(name, error)) {
            log_(0, "loaded plugin " + name + " " + p->desc->version + " from " + p->path);
            loaded.push_back(std::move(p));
        } else {
            log_(2, "plugin refused: " + error);
            errors.push_back(error);
        }
    }
    try {
        publish(assemble(std::move(loaded)));
    } catch (const std::exception &e) {
        errors.emplace_back(e.what());
    }
    return errors;
}

ReloadOutcome PluginRegistry::reload() {
    std::lock_guard<std::mutex> lock(reload_mu_);
    ReloadOutcome outcome;
    const auto current = snapshot();
    if (!current) return outcome;  // shutting down
    std::vector<std::shared_ptr<LoadedPlugin>> next = current->plugins;
    for (auto &slot : next) {
        FileIdentity id;
        if (identify(slot->path, id) && id == slot->identity) {
            outcome.unchanged.push_back(slot->name);
            continue;
        }
        std::string error;
        auto fresh = load_one(slot->name, error);
        if (!fresh) {
            log_(2, "plugin reload refused, keeping " + slot->name + " " + slot->desc->version +
                        ": " + error);
            outcome.refused.emplace_back(slot->name, error);
            continue;
        }
        auto candidate = next;
        for (auto &c : candidate)
            if (c == slot) c = fresh;
        try {
            (void)assemble(candidate);  // routes/services of the new generation must not clash
        } catch (const std::exception &e) {
            outcome.refused.emplace_back(slot->name, slot->path + ": refused: " + e.what());
            continue;
        }
        log_(0, "plugin " + slot->name + " swapped: " + slot->desc->version + " -> " +
                    fresh->desc->version);
        outcome.reloaded.push_back(slot->name);
        slot = std::move(fresh);
    }
    publish(assemble(std::move(next)));
    return outcome;
}

}  // namespace shopd::host
