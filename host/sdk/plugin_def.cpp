// Builds the C descriptor of plugin.h from a PluginDef, and the init/handle/serve/shutdown
// functions every plugin shares: each request runs under run_guarded, so no exception crosses
// the ABI. The SDK is linked into each plugin with hidden visibility, so the statics below are
// per plugin and per loaded generation.
#include "shopd/plugin_def.hpp"

#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>

namespace shopd {

const char *Settings::raw(const char *key) const {
    return host_->config((plugin_ + "." + key).c_str());
}

std::int64_t Settings::integer(const char *key, std::int64_t fallback, std::int64_t min,
                               std::int64_t max) const {
    const char *value = raw(key);
    if (!value) return fallback;
    const auto n = parse_int(value, min, max);
    if (!n)
        throw std::invalid_argument(plugin_ + "." + key + " must be a whole number in [" +
                                    std::to_string(min) + ", " + std::to_string(max) + "], not \"" +
                                    value + "\"");
    return *n;
}

std::string Settings::text(const char *key, const std::string &fallback) const {
    const char *value = raw(key);
    return value ? value : fallback;
}

namespace {

const PluginDef *g_def = nullptr;
std::vector<shopd_route> g_routes;
std::vector<const char *> g_services;

int plugin_init(const shopd_host_api *host, void **state, char *err, size_t err_len) {
    *state = nullptr;
    try {
        if (g_def->configure) g_def->configure(Settings(host, g_def->name));
        return 0;
    } catch (const std::exception &e) {
        (void)std::snprintf(err, err_len, "%s", e.what());
    } catch (...) {
        (void)std::snprintf(err, err_len, "init failed");
    }
    return 1;
}

void plugin_handle(void *, int route, const shopd_request *req, shopd_response *resp) {
    reset_statements_sent();
    const Ctx ctx(g_def->name, req, resp);
    run_guarded(ctx, [&] {
        if (route < 0 || static_cast<std::size_t>(route) >= g_def->endpoints.size())
            throw not_found();
        g_def->endpoints[static_cast<std::size_t>(route)].handler(ctx);
    });
}

void plugin_serve(void *, const char *service, const shopd_request *req, shopd_response *resp) {
    const Ctx ctx(g_def->name, req, resp);
    run_guarded(ctx, [&] {
        for (const auto &s : g_def->services)
            if (std::strcmp(s.name, service) == 0) return s.handler(ctx);
        throw not_found("No service " + std::string(service) + ".");
    });
}

void plugin_shutdown(void *) {
    if (g_def->shutdown) g_def->shutdown();
}

}  // namespace

const shopd_plugin *describe(const PluginDef &def) {
    static const shopd_plugin descriptor = [&def] {
        g_def = &def;
        for (std::size_t i = 0; i < def.endpoints.size(); ++i)
            g_routes.push_back(
                {def.endpoints[i].method, def.endpoints[i].pattern, static_cast<int>(i)});
        for (const auto &s : def.services) g_services.push_back(s.name);
        shopd_plugin d{};
        d.struct_size = sizeof(shopd_plugin);
        d.abi_version = SHOPD_PLUGIN_ABI_VERSION;
        d.build_signature = SHOPD_BUILD_SIGNATURE;
        d.name = def.name;
        d.version = def.version;
        d.routes = g_routes.data();
        d.route_count = g_routes.size();
        d.services = g_services.data();
        d.service_count = g_services.size();
        d.init = plugin_init;
        d.handle = plugin_handle;
        d.serve = g_services.empty() ? nullptr : plugin_serve;
        d.shutdown = plugin_shutdown;
        d.required_services = def.required_services.data();
        d.required_count = def.required_services.size();
        d.schema_min = def.schema_min;
        d.schema_max = def.schema_max;
        return d;
    }();
    return &descriptor;
}

}  // namespace shopd
