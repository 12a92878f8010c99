// Exact money arithmetic for shopd: amounts are integer cents, never floating point.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shopd {

/// An amount of money in cents (minor units). NUMERIC(12,2) fits with room to spare.
using Cents = std::int64_t;

/// A percentage in hundredths of a percent: "15" -> 1500, "12.5" -> 1250, "100" -> 10000.
using BasisPoints = std::int32_t;

/// Largest amount NUMERIC(12,2) can hold: 9999999999.99.
constexpr Cents kMaxNumeric12_2 = 999999999999;

/// Parses a decimal string with at most two decimals ("500", "500.5", "-3.25") into cents.
/// Returns nullopt for anything else (exponents, three decimals, empty, overflow).
std::optional<Cents> parse_money(std::string_view text);

/// Formats cents as a decimal string with exactly two decimals: 42075 -> "420.75".
std::string format_money(Cents cents);

/// Parses a percentage string in [0, 100] with at most two decimals.
std::optional<BasisPoints> parse_percent(std::string_view text);

/// Formats basis points as the shortest exact decimal: 1500 -> "15", 1250 -> "12.5".
std::string format_percent(BasisPoints bp);

/// Takes `bp` percent off `price`, rounding half-up (away from zero) to the cent.
Cents apply_percent_off(Cents price, BasisPoints bp);

}  // namespace shopd
