// A pricing candidate that crashes: the standard rules, but any quote for quantity 7 dies of
// SIGSEGV. shadow_itest runs it in shadow to show that a crashing candidate changes nothing for
// clients (the shadow process dies and is respawned; workers never run it).
#include <shopd/plugin_def.hpp>
#include <shopd/pricing/pricing_engine.hpp>

#include <csignal>

namespace {

void crash_on_seven(shopd::pricing::Quote &quote) {
    if (quote.input.quantity == 7) std::raise(SIGSEGV);
}

const shopd::PluginDef kPlugin = shopd::pricing::pricing_plugin_def("1.0.0-crashy", crash_on_seven);

}  // namespace

SHOPD_PLUGIN(pricing, kPlugin)
