// Fuzz target: host request pieces outside the router: If-None-Match matching (etag.hpp) and
// path normalisation (router.hpp).
#include "fuzz_check.hpp"

#include "etag.hpp"
#include "router.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char *>(data), size);

    // The input is both a response body (whose tag is computed) and an If-None-Match header.
    const std::string tag = shopd::host::entity_tag(in);
    FUZZ_CHECK(tag.size() > 2 && tag.front() == '"' && tag.back() == '"');
    FUZZ_CHECK(shopd::host::entity_tag(in) == tag);  // deterministic

    const bool matched = shopd::host::none_match(in, tag);
    // A header listing the tag (strong or weak, anywhere in a list) always matches; "*" too.
    FUZZ_CHECK(shopd::host::none_match(std::string(in) + ", " + tag, tag));
    FUZZ_CHECK(shopd::host::none_match("W/" + tag + " ,\t" + std::string(in), tag));
    FUZZ_CHECK(shopd::host::none_match("*", tag));
    // A header that names no quoted tag at all never matches a tag.
    if (in.find('"') == std::string_view::npos && in.find('*') == std::string_view::npos)
        FUZZ_CHECK(!matched);

    const std::string path = shopd::host::normalise_path(in);
    FUZZ_CHECK(!path.empty() && path.back() == '/');
    FUZZ_CHECK(path.size() - in.size() <= 1);
    FUZZ_CHECK(path.compare(0, in.size(), in) == 0);
    return 0;
}
