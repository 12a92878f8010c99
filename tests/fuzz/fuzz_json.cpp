// Fuzz target: request-body parsing (shopd::parse_json_object) and DRF-style field validation
// (shopd::Fields) as handlers use them, plus the problem+json a rejected body turns into.
#include "fuzz_check.hpp"

#include "shopd/http.hpp"
#include "shopd/json.hpp"
#include "shopd/money.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

void expect_valid_json(const std::string &text) {
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    FUZZ_CHECK(!doc.HasParseError());
}

// Every validator on every key a plugin might use, with their invariants.
void validate(const rapidjson::Value &object, const std::string &prefix, int depth) {
    shopd::Fields f(object, prefix);
    if (auto s = f.text("name", true, 200)) {
        FUZZ_CHECK(shopd::utf8_length(*s) <= 200);
        FUZZ_CHECK(s->find('\0') == std::string::npos);
    }
    (void)f.text("description", false, 2000, true);
    if (auto n = f.integer("quantity", true, 1, 1000)) FUZZ_CHECK(*n >= 1 && *n <= 1000);
    if (auto n = f.integer("delta", false, -1000000, 1000000))
        FUZZ_CHECK(*n >= -1000000 && *n <= 1000000);
    if (auto id = f.id("product_id", false)) FUZZ_CHECK(*id > 0);
    if (auto id = f.id("id", false)) FUZZ_CHECK(*id > 0);
    if (auto c = f.money("price", true, false)) {
        FUZZ_CHECK(*c >= 0 && *c <= shopd::kMaxNumeric12_2);
        FUZZ_CHECK(shopd::parse_money(shopd::format_money(*c)) == *c);
    }
    if (auto c = f.money("adjustment", false, true)) {
        FUZZ_CHECK(*c >= -shopd::kMaxNumeric12_2 && *c <= shopd::kMaxNumeric12_2);
        FUZZ_CHECK(shopd::parse_money(shopd::format_money(*c)) == *c);
    }
    if (auto bp = f.percent("percent", false)) {
        FUZZ_CHECK(*bp >= 0 && *bp <= 10000);
        FUZZ_CHECK(shopd::parse_percent(shopd::format_percent(*bp)) == *bp);
    }
    if (auto ch = f.choice("status", false, {"draft", "active", "archived"}))
        FUZZ_CHECK(*ch == "draft" || *ch == "active" || *ch == "archived");
    if (const auto *items = f.array("items", false)) {
        FUZZ_CHECK(items->IsArray());
        if (depth < 4) {
            int i = 0;
            for (const auto &item : items->GetArray()) {
                const std::string p = prefix + "items." + std::to_string(i++) + ".";
                if (item.IsObject()) {
                    validate(item, p, depth + 1);
                } else {
                    f.error(p + "non_field_errors", "Expected an object.");
                }
            }
        }
    }
    FUZZ_CHECK(f.ok() == f.errors().empty());
    try {
        f.check();
        FUZZ_CHECK(f.ok());
    } catch (const shopd::ClientError &e) {
        FUZZ_CHECK(!f.ok());
        FUZZ_CHECK(e.status == 400);
        expect_valid_json(shopd::problem_json(e.status, e.title, e.detail, e.errors));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char *>(data), size);
    (void)shopd::is_json_media_type(body.substr(0, 64));
    try {
        const rapidjson::Document doc = shopd::parse_json_object(body);
        FUZZ_CHECK(doc.IsObject());
        validate(doc, "", 0);
    } catch (const shopd::ClientError &e) {
        FUZZ_CHECK(e.status == 400);
        expect_valid_json(shopd::problem_json(e.status, e.title, e.detail, e.errors));
    }
    return 0;
}
