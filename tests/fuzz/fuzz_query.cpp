// Fuzz target: query strings (shopd::Query, url_decode/url_encode) and DRF page-number
// pagination (parse_page_request, page_exists, next/previous page URLs).
#include "fuzz_check.hpp"

#include "shopd/http.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    // The first 8 bytes (when there are) are a row count for the page links; the rest is the
    // raw query string.
    std::int64_t count = 0;
    if (size >= sizeof count) {
        std::memcpy(&count, data, sizeof count);
        data += sizeof count;
        size -= sizeof count;
        if (count < 0) count = -(count + 1);  // a row count is never negative
    }
    const std::string_view raw(reinterpret_cast<const char *>(data), size);

    // Encoding is exact and its output is plain: decode(encode(x)) == x.
    const std::string encoded = shopd::url_encode(raw);
    FUZZ_CHECK(encoded.find_first_of("&=+ #?/") == std::string::npos);
    FUZZ_CHECK(shopd::url_decode(encoded) == raw);
    FUZZ_CHECK(shopd::url_decode(raw).size() <= raw.size());

    const shopd::Query query(raw);
    // with() re-encodes every pair: parsing it back gives the same values.
    const std::string with_page = query.with("page", "7");
    const shopd::Query again(with_page);
    FUZZ_CHECK(again.get("page") == std::optional<std::string>("7"));
    for (const char *key : {"page_size", "search", "ordering", "q"})
        FUZZ_CHECK(again.get(key) == query.get(key));
    FUZZ_CHECK(!shopd::Query(query.with("page", "")).get("page"));

    shopd::PageRequest page;
    try {
        page = shopd::parse_page_request(query);
    } catch (const shopd::ClientError &e) {
        FUZZ_CHECK(e.status == 404);
        return 0;
    }
    FUZZ_CHECK(page.page >= 1 && page.page <= 1000000000);
    FUZZ_CHECK(page.page_size >= 1 && page.page_size <= shopd::kMaxPageSize);
    FUZZ_CHECK(page.offset() >= 0);

    const bool exists = shopd::page_exists(page, count);
    const auto next = shopd::next_page_url(page, count, "http://h", "/api/x/", raw);
    const auto prev = shopd::previous_page_url(page, "http://h", "/api/x/", raw);
    if (next) {
        FUZZ_CHECK(exists);
        FUZZ_CHECK(next->rfind("http://h/api/x/?", 0) == 0);
        const shopd::Query nq(std::string_view(*next).substr(next->find('?') + 1));
        FUZZ_CHECK(nq.get("page") == std::to_string(page.page + 1));
    }
    if (prev) {
        FUZZ_CHECK(page.page > 1);
        const auto q = prev->find('?');
        const shopd::Query pq(q == std::string::npos ? std::string_view{}
                                                     : std::string_view(*prev).substr(q + 1));
        if (page.page == 2)
            FUZZ_CHECK(!pq.get("page"));
        else
            FUZZ_CHECK(pq.get("page") == std::to_string(page.page - 1));
    } else {
        FUZZ_CHECK(page.page == 1);
    }
    return 0;
}
