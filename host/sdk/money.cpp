// Exact money arithmetic: decimal strings <-> integer cents, half-up percentage discounts.
#include "shopd/money.hpp"

#include <cstdlib>

namespace shopd {
namespace {

/// Parses "[-]digits[.d[d]]" into hundredths; max_int_digits bounds the integer part.
std::optional<std::int64_t> parse_hundredths(std::string_view text, bool allow_negative,
                                             std::size_t max_int_digits) {
    bool negative = false;
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
        negative = text.front() == '-';
        if (negative && !allow_negative) return std::nullopt;
        text.remove_prefix(1);
    }
    const auto dot = text.find('.');
    const std::string_view whole = text.substr(0, dot);
    const std::string_view frac =
        dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    if (whole.empty() || whole.size() > max_int_digits) return std::nullopt;
    if (dot != std::string_view::npos && (frac.empty() || frac.size() > 2)) return std::nullopt;
    std::int64_t value = 0;
    for (char c : whole) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + (c - '0');
    }
    std::int64_t hundredths = 0;
    for (std::size_t i = 0; i < 2; ++i) {
        const char c = i < frac.size() ? frac[i] : '0';
        if (c < '0' || c > '9') return std::nullopt;
        hundredths = hundredths * 10 + (c - '0');
    }
    const std::int64_t total = value * 100 + hundredths;
    return negative ? -total : total;
}

}  // namespace

std::optional<Cents> parse_money(std::string_view text) {
    // 10 integer digits: the NUMERIC(12,2) columns money is stored in.
    return parse_hundredths(text, true, 10);
}

std::string format_money(Cents cents) {
    const bool negative = cents < 0;
    // Work in unsigned so INT64_MIN cannot overflow on negation.
    const std::uint64_t magnitude =
        negative ? 0 - static_cast<std::uint64_t>(cents) : static_cast<std::uint64_t>(cents);
    std::string out = std::to_string(magnitude / 100);
    const unsigned frac = static_cast<unsigned>(magnitude % 100);
    out += '.';
    out += static_cast<char>('0' + frac / 10);
    out += static_cast<char>('0' + frac % 10);
    return negative ? "-" + out : out;
}

std::optional<BasisPoints> parse_percent(std::string_view text) {
    const auto bp = parse_hundredths(text, false, 3);
    if (!bp || *bp > 10000) return std::nullopt;
    return static_cast<BasisPoints>(*bp);
}

std::string format_percent(BasisPoints bp) {
    std::string out = std::to_string(bp / 100);
    const int frac = bp % 100;
    if (frac != 0) {
        out += '.';
        out += static_cast<char>('0' + frac / 10);
        if (frac % 10 != 0) out += static_cast<char>('0' + frac % 10);
    }
    return out;
}

Cents apply_percent_off(Cents price, BasisPoints bp) {
    // price * (10000 - bp) / 10000, rounded half away from zero. __int128 keeps any int64
    // price exact even though NUMERIC(12,2) prices would fit in 64 bits.
    const __int128 scaled = static_cast<__int128>(price) * (10000 - bp);
    const __int128 half = 5000;
    const __int128 rounded = scaled >= 0 ? (scaled + half) / 10000 : -((-scaled + half) / 10000);
    return static_cast<Cents>(rounded);
}

}  // namespace shopd
