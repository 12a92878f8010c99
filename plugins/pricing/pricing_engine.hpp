// The pricing plugin's edge, reusable: the routes (GET /api/pricing/{id}/price/,
// /api/pricing/rules/...) and the "price" service of plugins/pricing with their SQL, as one
// PluginDef. The in-tree pricing builds are only pricing_plugin_def(<version>); another pricing
// engine (e.g. examples/pricing-capped, built against the installed SDK) passes a QuoteAdjust
// that changes each quote after the standard rules, and a Configure that reads its options.
#pragma once

#include "pricing_domain.hpp"

#include "shopd/plugin_def.hpp"

namespace shopd::pricing {

/// Changes a quote (route and service alike) after the standard rules computed it, before it
/// is answered: e.g. cap_discount(). Runs on the request's thread; must not throw for a quote
/// the standard rules accepted.
using QuoteAdjust = void (*)(Quote &quote);

/// The "pricing" plugin: the routes and "price" service of plugins/pricing, version `version`
/// (a string literal: the PluginDef keeps the pointer), engine "pricing/<version>" in every
/// answer. `adjust` (nullptr: none) runs on every quote; `configure` is the plugin's options
/// hook (see PluginDef). One call per plugin build: the result goes into the plugin's static
/// PluginDef (SHOPD_PLUGIN).
PluginDef pricing_plugin_def(const char *version, QuoteAdjust adjust = nullptr,
                             Configure configure = nullptr);

}  // namespace shopd::pricing
