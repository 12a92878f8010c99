// pricing plugin: prices (GET /api/pricing/{id}/price/), pricing rules and the "price" service.
// Built once per variant (pricing, pricing_v2, pricing_badabi) with its own version / ABI
// definitions; the routes, service and SQL are in pricing_engine, the rules in pricing_domain
// (both in the shopd_pricing_domain library, which out-of-tree pricing engines link too).
#include "pricing_engine.hpp"

#include "shopd/plugin_def.hpp"

#ifndef SHOPD_PRICING_VERSION
#error "the build defines SHOPD_PRICING_VERSION (see plugins/pricing/CMakeLists.txt)"
#endif

namespace shopd::pricing {

const PluginDef kPlugin = pricing_plugin_def(SHOPD_PRICING_VERSION);

}  // namespace shopd::pricing

#ifdef SHOPD_PRICING_ABI_VERSION
// pricing_badabi only: the hot-swap test needs a build the host must refuse, so the descriptor
// is the real one with a wrong ABI version.
extern "C" SHOPD_EXPORT const shopd_plugin *pricing_shopd_plugin(void) {
    static const shopd_plugin descriptor = [] {
        shopd_plugin d = *shopd::describe(shopd::pricing::kPlugin);
        d.abi_version = SHOPD_PRICING_ABI_VERSION;
        return d;
    }();
    return &descriptor;
}
#else
SHOPD_PLUGIN(pricing, shopd::pricing::kPlugin)
#endif
