// Customer tiers and quantity bounds shared by the plugins.
#include "shopd/commerce.hpp"

#include <algorithm>

namespace shopd {

bool is_known_tier(std::string_view tier) {
    return std::any_of(kTiers.begin(), kTiers.end(), [tier](const char *t) { return tier == t; });
}

std::optional<std::string> tier_field(Fields &f, const char *key, bool required) {
    return f.choice(key, required, {kTiers[0], kTiers[1], kTiers[2], kTiers[3]});
}

}  // namespace shopd
