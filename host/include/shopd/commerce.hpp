// Facts of the shop's domain that more than one plugin checks: customer tiers and how many
// units a cart line or a price quote may hold.
#pragma once

#include "shopd/json.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shopd {

/// Customer tiers, as the CHECK constraints of customers and pricing_rules list them.
inline constexpr std::array<const char *, 4> kTiers = {"STANDARD", "SILVER", "GOLD", "PLATINUM"};
inline constexpr const char *kDefaultTier = "STANDARD";

/// Units one cart line or one price quote may hold (the pricing contract's 1..10000).
inline constexpr std::int64_t kMinQuantity = 1;
inline constexpr std::int64_t kMaxQuantity = 10000;

bool is_known_tier(std::string_view tier);

/// Reads a tier through `f`; nullopt when absent or invalid (the error is recorded in `f`).
std::optional<std::string> tier_field(Fields &f, const char *key, bool required);

}  // namespace shopd
