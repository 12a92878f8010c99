// pricing-capped: the standard pricing plugin (routes, "price" service, rules: the installed
// shopd::pricing_domain) with one addition: the option pricing.max-discount (a percentage, e.g.
// "15"; unset: no cap) caps the combined discount of all rules, so a unit price is never below
// (base + delta) less that percentage, rounded half-up to the cent.
#include <shopd/plugin_def.hpp>
#include <shopd/pricing/pricing_engine.hpp>

#include <optional>
#include <stdexcept>
#include <string>

namespace {

using shopd::BasisPoints;

/// The cap of this generation (each loaded generation has its own copy); none: no cap.
std::optional<BasisPoints> max_discount;

void configure(const shopd::Settings &settings) {
    const std::string text = settings.text("max-discount", "");
    if (text.empty()) {
        max_discount.reset();
        return;
    }
    const auto bp = shopd::parse_percent(text);
    if (!bp)
        throw std::invalid_argument(
            "pricing.max-discount must be a percentage in [0, 100] with "
            "at most two decimals, not \"" +
            text + "\"");
    max_discount = *bp;
}

void cap(shopd::pricing::Quote &quote) {
    if (max_discount)
        quote.price = shopd::pricing::cap_discount(quote.input, quote.price, *max_discount);
}

const shopd::PluginDef kPlugin = shopd::pricing::pricing_plugin_def("1.0.0-capped", cap, configure);

}  // namespace

SHOPD_PLUGIN(pricing, kPlugin)
