// Fuzz target: money and percentages. Whatever parses formats back to text that parses to the
// same value; formatting any int64 never crashes; discounts stay between 0 and the price.
#include "fuzz_check.hpp"

#include "shopd/money.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char *>(data), size);

    if (const auto cents = shopd::parse_money(text)) {
        FUZZ_CHECK(*cents >= -shopd::kMaxNumeric12_2 && *cents <= shopd::kMaxNumeric12_2);
        const std::string formatted = shopd::format_money(*cents);
        FUZZ_CHECK(shopd::parse_money(formatted) == *cents);
        // Formatting is canonical: formatting the reparsed value gives the same text.
        FUZZ_CHECK(shopd::format_money(*shopd::parse_money(formatted)) == formatted);
    }
    if (const auto bp = shopd::parse_percent(text)) {
        FUZZ_CHECK(*bp >= 0 && *bp <= 10000);
        FUZZ_CHECK(shopd::parse_percent(shopd::format_percent(*bp)) == *bp);
        // The same text is a valid amount of money, in the same hundredths.
        FUZZ_CHECK(shopd::parse_money(text) == static_cast<shopd::Cents>(*bp));
    }

    // Any 64-bit value formats without overflow; in range it round-trips.
    if (size >= sizeof(std::int64_t) + sizeof(std::int32_t)) {
        std::int64_t cents = 0;
        std::int32_t bp = 0;
        std::memcpy(&cents, data, sizeof cents);
        std::memcpy(&bp, data + sizeof cents, sizeof bp);
        const std::string formatted = shopd::format_money(cents);
        if (cents >= -shopd::kMaxNumeric12_2 && cents <= shopd::kMaxNumeric12_2)
            FUZZ_CHECK(shopd::parse_money(formatted) == cents);
        else
            FUZZ_CHECK(!shopd::parse_money(formatted));
        // A discount of a percentage in [0, 100] of a stored price lies in [0, price].
        const shopd::BasisPoints pct =
            static_cast<shopd::BasisPoints>(static_cast<std::uint32_t>(bp) % 10001u);
        const shopd::Cents price = cents % (shopd::kMaxNumeric12_2 + 1);
        const shopd::Cents off = shopd::apply_percent_off(price, pct);
        if (price >= 0)
            FUZZ_CHECK(off >= 0 && off <= price);
        else
            FUZZ_CHECK(off <= 0 && off >= price);
        FUZZ_CHECK(shopd::parse_percent(shopd::format_percent(pct)) == pct);
    }
    return 0;
}
