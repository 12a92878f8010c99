// A plugin declared as data: its name, version, routes with the function serving each, the
// services it offers and requires, and its options. The SDK turns the declaration into the C
// descriptor of plugin.h, so no plugin writes a handle() switch or fills the struct by hand.
//
//   const shopd::PluginDef kPlugin{"cart", "1.0.0",
//       {{"GET", "/api/cart/", get_cart}, {"POST", "/api/cart/items/", add_item}},
//       {}, {"price"}};
//   SHOPD_PLUGIN(cart, kPlugin)
#pragma once

#include "shopd/plugin.h"
#include "shopd/sdk.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace shopd {

/// Serves one route (or one service call: then ctx.body_text() is the input and
/// ctx.caller_txn() the caller's transaction).
using Handler = void (*)(const Ctx &ctx);

struct Endpoint {
    const char *method;   ///< "GET", "POST", "PUT", "PATCH", "DELETE"
    const char *pattern;  ///< "/api/products/{id}/"
    Handler handler;
};

struct ServiceEndpoint {
    const char *name;  ///< "price"
    Handler handler;
};

/// The plugin's options: `<plugin>.<key>` settings of the host's config (flags
/// `--<plugin>.<key>`, or `<key>` in the config file's `[<plugin>]` section).
class Settings {
public:
    Settings(const shopd_host_api *host, std::string plugin)
        : host_(host), plugin_(std::move(plugin)) {}

    /// A whole number in [min, max]; `fallback` when unset. Throws std::invalid_argument naming
    /// the option when it is set to anything else, so the plugin is refused at load.
    std::int64_t integer(const char *key, std::int64_t fallback, std::int64_t min,
                         std::int64_t max) const;
    /// Text; `fallback` when unset.
    std::string text(const char *key, const std::string &fallback) const;

private:
    const char *raw(const char *key) const;

    const shopd_host_api *host_;
    std::string plugin_;
};

/// Called by init() before the plugin is published: read and validate options, keep them in
/// the plugin's own statics (each loaded generation has its own copy of them). Throw to refuse.
using Configure = void (*)(const Settings &settings);
/// Called once after the last request on this generation finished.
using Shutdown = void (*)();

/// The database schema version of this source tree: the newest sql/NNN_*.sql. Bump it with
/// every migration (host_test checks they agree).
inline constexpr unsigned kSchemaVersion = 7;

struct PluginDef {
    const char *name;
    const char *version;
    std::vector<Endpoint> endpoints;
    std::vector<ServiceEndpoint> services = {};
    std::vector<const char *> required_services = {};
    Configure configure = nullptr;
    Shutdown shutdown = nullptr;
    /// Schema versions (sql/NNN_*.sql) the plugin works with, inclusive; 0 = no bound. By
    /// default a plugin needs the schema of the tree its SDK came from, or newer.
    unsigned schema_min = kSchemaVersion;
    unsigned schema_max = 0;
};

/// The C descriptor of `def`, built on the first call; `def` must be a static of the plugin.
const shopd_plugin *describe(const PluginDef &def);

}  // namespace shopd

/// Defines the exported entry point `<ident>_shopd_plugin` returning the descriptor of `def`.
#define SHOPD_PLUGIN(ident, def)                                             \
    extern "C" SHOPD_EXPORT const shopd_plugin *ident##_shopd_plugin(void) { \
        return shopd::describe(def);                                         \
    }
