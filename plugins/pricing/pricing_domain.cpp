// The standard pricing rules: exact price maths in integer cents, input validation and the JSON
// of the pricing API and the "price" service.
#include "pricing_domain.hpp"

#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <utility>

namespace shopd::pricing {

// ---- rules ----------------------------------------------------------------------------------

const char *kind_name(RuleKind kind) { return kind == RuleKind::quantity ? "QUANTITY" : "TIER"; }

std::optional<RuleKind> parse_kind(std::string_view text) {
    if (text == "QUANTITY") return RuleKind::quantity;
    if (text == "TIER") return RuleKind::tier;
    return std::nullopt;
}

const Rule *quantity_rule_for(const std::vector<Rule> &rules, std::int64_t quantity) {
    const Rule *best = nullptr;
    for (const auto &r : rules) {
        if (r.kind != RuleKind::quantity || r.min_quantity > quantity) continue;
        if (!best || r.min_quantity > best->min_quantity) best = &r;
    }
    return best;
}

const Rule *tier_rule_for(const std::vector<Rule> &rules, std::string_view tier) {
    for (const auto &r : rules)
        if (r.kind == RuleKind::tier && r.tier == tier) return &r;
    return nullptr;
}

// ---- the price ------------------------------------------------------------------------------

namespace {

bool within_numeric_12_2(Cents c) { return c >= -kMaxNumeric12_2 && c <= kMaxNumeric12_2; }

void check_input(const PriceInput &in) {
    if (in.quantity < kMinQuantity || in.quantity > kMaxQuantity)
        throw std::invalid_argument("quantity " + std::to_string(in.quantity) +
                                    " outside 1..10000");
    if (in.base_price < 0 || !within_numeric_12_2(in.base_price) ||
        !within_numeric_12_2(in.variant_delta))
        throw std::invalid_argument("amount outside NUMERIC(12,2)");
    if (!is_known_tier(in.tier)) throw std::invalid_argument("unknown tier " + in.tier);
}

}  // namespace

Price compute_price(const PriceInput &in, const std::vector<Rule> &rules) {
    check_input(in);
    Price out;
    Cents unit = in.base_price + in.variant_delta;
    if (unit < 0) unit = 0;
    // Each step rounds (apply_percent_off is half-up to the cent), so two rules are not one
    // combined percentage: 550.00 -10% = 495.00, -15% = 420.75 (not 550.00 * 0.765).
    for (const Rule *rule :
         {quantity_rule_for(rules, in.quantity), tier_rule_for(rules, in.tier)}) {
        if (!rule) continue;
        if (rule->percent_off < 0 || rule->percent_off > 10000)
            throw std::invalid_argument("rule " + std::to_string(rule->id) +
                                        ": percent_off outside 0..100");
        unit = apply_percent_off(unit, rule->percent_off);
        out.applied.push_back(*rule);
    }
    out.unit_price = unit;
    out.total = unit * in.quantity;
    return out;
}

Quote make_quote(std::int64_t product_id, std::optional<std::int64_t> variant_id, PriceInput input,
                 const std::vector<Rule> &rules) {
    Quote quote;
    quote.product_id = product_id;
    quote.variant_id = variant_id;
    quote.price = compute_price(input, rules);
    quote.input = std::move(input);
    return quote;
}

// ---- input ----------------------------------------------------------------------------------

namespace {

/// The query parameters that are present, as a JSON object of strings, so they go through the
/// same Fields validation (and messages) as JSON bodies and the "price" service.
rapidjson::Document query_as_object(const Query &query, std::initializer_list<const char *> keys) {
    rapidjson::Document d(rapidjson::kObjectType);
    auto &alloc = d.GetAllocator();
    for (const char *key : keys) {
        if (auto value = query.get(key))
            d.AddMember(rapidjson::StringRef(key),
                        rapidjson::Value(value->data(),
                                         static_cast<rapidjson::SizeType>(value->size()), alloc),
                        alloc);
    }
    return d;
}

/// What a price is asked for, from the route's query or the service's input: one set of rules
/// and messages for both; only the tier's name and whether the variant is required differ.
PriceQuery read_price_request(const rapidjson::Value &object, const char *tier_key,
                              bool variant_required) {
    Fields f(object);
    PriceQuery request;
    request.variant_id = f.id("variant_id", variant_required);
    if (auto n = f.integer("quantity", false, kMinQuantity, kMaxQuantity)) request.quantity = *n;
    if (auto tier = tier_field(f, tier_key, false)) request.tier = *tier;
    f.check();
    return request;
}

/// Whether `key` is in `body` with a non-null value (null counts as absent, as in Fields).
bool present(const rapidjson::Value &body, const char *key) {
    const auto it = body.FindMember(key);
    return it != body.MemberEnd() && !it->value.IsNull();
}

}  // namespace

PriceQuery parse_price_query(const Query &query) {
    return read_price_request(query_as_object(query, {"quantity", "user_tier", "variant_id"}),
                              "user_tier", false);
}

ServiceInput parse_service_input(std::string_view body) {
    // check() has thrown unless variant_id is set.
    const PriceQuery request = read_price_request(parse_json_object(body), "tier", true);
    return ServiceInput{*request.variant_id, request.quantity, request.tier};
}

Rule parse_new_rule(const rapidjson::Value &body) {
    Fields f(body);
    Rule rule;
    const auto kind = f.choice("kind", true, {"QUANTITY", "TIER"});
    if (auto percent = f.percent("percent_off", true)) rule.percent_off = *percent;
    if (kind == "QUANTITY") {
        rule.kind = RuleKind::quantity;
        // An integer column: cap there so a huge value is a 400, not a numeric_value_out_of_range.
        rule.min_quantity =
            f.integer("min_quantity", true, 1, std::numeric_limits<std::int32_t>::max())
                .value_or(0);
        if (present(body, "tier"))
            f.error("tier", "A QUANTITY rule has no tier; omit it or send null.");
    } else if (kind == "TIER") {
        rule.kind = RuleKind::tier;
        rule.tier = tier_field(f, "tier", true).value_or("");
        if (present(body, "min_quantity"))
            f.error("min_quantity", "A TIER rule has no min_quantity; omit it or send null.");
    }
    f.check();
    return rule;
}

ClientError unknown_variant(std::int64_t variant_id) {
    return validation_failed(
        {{"variant_id",
          {"Invalid pk \"" + std::to_string(variant_id) + "\" - object does not exist."}}});
}

ClientError foreign_variant(std::int64_t variant_id, std::int64_t product_id) {
    return validation_failed(
        {{"variant_id",
          {"Variant " + std::to_string(variant_id) + " does not belong to product " +
           std::to_string(product_id) + "."}}});
}

// ---- output ---------------------------------------------------------------------------------

namespace {

/// A rule as JSON; the rules API shows its conditions (min_quantity, tier), a price's
/// applied_rules only which rule took how much off.
void write_rule_object(JsonWriter &w, const Rule &rule, bool with_conditions) {
    w.StartObject();
    put_key(w, "id");
    w.Int64(rule.id);
    put_key(w, "kind");
    w.String(kind_name(rule.kind));
    if (with_conditions) {
        put_key(w, "min_quantity");
        if (rule.kind == RuleKind::quantity)
            w.Int64(rule.min_quantity);
        else
            w.Null();
        put_key(w, "tier");
        if (rule.kind == RuleKind::tier)
            put_string(w, rule.tier);
        else
            w.Null();
    }
    put_key(w, "percent_off");
    put_string(w, format_percent(rule.percent_off));
    w.EndObject();
}

/// Which answer a quote is rendered for.
enum class QuoteFor { route, service };

/// A quote as JSON. The route shows how the price came about (base price, variant adjustment,
/// applied rules) and names the tier "user_tier", as its query does; the service answers only
/// the price, with the tier under its input's name, "tier".
std::string quote_json(const Quote &quote, std::string_view engine, QuoteFor answer) {
    const bool route = answer == QuoteFor::route;
    return render_json([&](JsonWriter &w) {
        w.StartObject();
        put_key(w, "product_id");
        w.Int64(quote.product_id);
        put_key(w, "variant_id");
        if (quote.variant_id)
            w.Int64(*quote.variant_id);
        else
            w.Null();
        put_key(w, "quantity");
        w.Int64(quote.input.quantity);
        put_key(w, route ? "user_tier" : "tier");
        put_string(w, quote.input.tier);
        if (route) {
            put_key(w, "base_price");
            put_money(w, quote.input.base_price);
            put_key(w, "variant_adjustment");
            put_money(w, quote.input.variant_delta);
        }
        put_key(w, "unit_price");
        put_money(w, quote.price.unit_price);
        put_key(w, "total");
        put_money(w, quote.price.total);
        if (route) {
            put_key(w, "applied_rules");
            w.StartArray();
            for (const auto &rule : quote.price.applied) write_rule_object(w, rule, false);
            w.EndArray();
        }
        put_key(w, "engine");
        put_string(w, engine);
        w.EndObject();
    });
}

}  // namespace

void write_rule(JsonWriter &w, const Rule &rule) { write_rule_object(w, rule, true); }

std::string price_json(const Quote &quote, std::string_view engine) {
    return quote_json(quote, engine, QuoteFor::route);
}

std::string service_price_json(const Quote &quote, std::string_view engine) {
    return quote_json(quote, engine, QuoteFor::service);
}

}  // namespace shopd::pricing
