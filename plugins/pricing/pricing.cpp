// pricing plugin: validation of route input and rendering of route output.
#include "pricing.hpp"

#include <limits>

namespace shopd::pricing {

std::optional<std::string> tier_field(Fields &f, const char *key, bool required) {
    return f.choice(key, required, {"STANDARD", "SILVER", "GOLD", "PLATINUM"});
}

namespace {

/// The query parameters that are present, as a JSON object of strings, so they go through the
/// same Fields validation (and messages) as JSON bodies and the "price" service.
rapidjson::Document query_as_object(const Query &query, std::initializer_list<const char *> keys) {
    rapidjson::Document d(rapidjson::kObjectType);
    auto &alloc = d.GetAllocator();
    for (const char *key : keys) {
        if (auto value = query.get(key))
            d.AddMember(rapidjson::StringRef(key),
                        rapidjson::Value(value->data(), static_cast<rapidjson::SizeType>(value->size()), alloc), alloc);
    }
    return d;
}

/// Whether `key` is in `body` with a non-null value (null counts as absent, as in Fields).
bool present(const rapidjson::Value &body, const char *key) {
    const auto it = body.FindMember(key);
    return it != body.MemberEnd() && !it->value.IsNull();
}

}  // namespace

PriceQuery parse_price_query(const Query &query) {
    const auto params = query_as_object(query, {"quantity", "user_tier", "variant_id"});
    Fields f(params);
    PriceQuery q;
    if (auto n = f.integer("quantity", false, kMinQuantity, kMaxQuantity)) q.quantity = *n;
    if (auto tier = tier_field(f, "user_tier", false)) q.tier = *tier;
    q.variant_id = f.id("variant_id", false);
    f.check();
    return q;
}

Rule parse_new_rule(const rapidjson::Value &body) {
    Fields f(body);
    Rule rule;
    const auto kind = f.choice("kind", true, {"QUANTITY", "TIER"});
    if (auto percent = f.percent("percent_off", true)) rule.percent_off = *percent;
    if (kind == "QUANTITY") {
        rule.kind = RuleKind::quantity;
        // An integer column: cap there so a huge value is a 400, not a numeric_value_out_of_range.
        rule.min_quantity = f.integer("min_quantity", true, 1, std::numeric_limits<std::int32_t>::max()).value_or(0);
        if (present(body, "tier")) f.error("tier", "A QUANTITY rule has no tier; omit it or send null.");
    } else if (kind == "TIER") {
        rule.kind = RuleKind::tier;
        rule.tier = tier_field(f, "tier", true).value_or("");
        if (present(body, "min_quantity"))
            f.error("min_quantity", "A TIER rule has no min_quantity; omit it or send null.");
    }
    f.check();
    return rule;
}

void write_rule(JsonWriter &w, const Rule &rule) {
    w.StartObject();
    put_key(w, "id");
    w.Int64(rule.id);
    put_key(w, "kind");
    w.String(kind_name(rule.kind));
    put_key(w, "min_quantity");
    if (rule.kind == RuleKind::quantity) w.Int64(rule.min_quantity);
    else w.Null();
    put_key(w, "tier");
    if (rule.kind == RuleKind::tier) put_string(w, rule.tier);
    else w.Null();
    put_key(w, "percent_off");
    put_string(w, format_percent(rule.percent_off));
    w.EndObject();
}

std::string rules_page_json(std::int64_t count, const std::optional<std::string> &next,
                            const std::optional<std::string> &previous, const std::vector<Rule> &rules) {
    return render_page(count, next, previous, rules, write_rule);
}

std::string price_json(const Quote &quote, std::string_view engine) {
    return render_json([&](JsonWriter &w) {
        w.StartObject();
        put_key(w, "product_id");
        w.Int64(quote.product_id);
        put_key(w, "variant_id");
        if (quote.variant_id) w.Int64(*quote.variant_id);
        else w.Null();
        put_key(w, "quantity");
        w.Int64(quote.input.quantity);
        put_key(w, "user_tier");
        put_string(w, quote.input.tier);
        put_key(w, "base_price");
        put_money(w, quote.input.base_price);
        put_key(w, "variant_adjustment");
        put_money(w, quote.input.variant_delta);
        put_key(w, "unit_price");
        put_money(w, quote.price.unit_price);
        put_key(w, "total");
        put_money(w, quote.price.total);
        put_key(w, "applied_rules");
        w.StartArray();
        for (const auto &rule : quote.price.applied) {
            w.StartObject();
            put_key(w, "id");
            w.Int64(rule.id);
            put_key(w, "kind");
            w.String(kind_name(rule.kind));
            put_key(w, "percent_off");
            put_string(w, format_percent(rule.percent_off));
            w.EndObject();
        }
        w.EndArray();
        put_key(w, "engine");
        put_string(w, engine);
        w.EndObject();
    });
}

ClientError unknown_variant(std::int64_t variant_id) {
    return validation_failed({{"variant_id", {"Invalid pk \"" + std::to_string(variant_id) + "\" - object does not exist."}}});
}

ClientError foreign_variant(std::int64_t variant_id, std::int64_t product_id) {
    return validation_failed({{"variant_id", {"Variant " + std::to_string(variant_id) +
                                              " does not belong to product " + std::to_string(product_id) + "."}}});
}

}  // namespace shopd::pricing
