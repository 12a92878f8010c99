// The standard pricing rules: exact price maths in integer cents, input validation and the JSON
// of the pricing API and the "price" service.
#include "pricing_domain.hpp"

#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <utility>

namespace shopd::pricing {

// ---- rules ----------------------------------------------------------------------------------

const char *kind_name(RuleKind kind) {
    switch (kind) {
    case RuleKind::quantity: return "QUANTITY";
    case RuleKind::tier: return "TIER";
    case RuleKind::customer: return "CUSTOMER";
    }
    return "?";
}

std::optional<RuleKind> parse_kind(std::string_view text) {
    if (text == "QUANTITY") return RuleKind::quantity;
    if (text == "TIER") return RuleKind::tier;
    if (text == "CUSTOMER") return RuleKind::customer;
    return std::nullopt;
}

namespace {

constexpr std::int64_t kMicrosPerSecond = 1000000;
constexpr std::int64_t kSecondsPerDay = 86400;

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian calendar, days since
// 1970-01-01): exact integer maths, no time zone database and no time_t range to worry about.
std::int64_t days_from_civil(std::int64_t y, std::int64_t m, std::int64_t d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const std::int64_t yoe = y - era * 400;
    const std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct Civil {
    std::int64_t year, month, day;
};

Civil civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const std::int64_t doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
    const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
    return {yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

std::int64_t days_in_month(std::int64_t y, std::int64_t m) {
    static constexpr std::int64_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : kDays[m - 1];
}

/// 0001-01-01T00:00:00Z and the last microsecond of 9999: what four year digits can say.
const Micros kFirstInstant = days_from_civil(1, 1, 1) * kSecondsPerDay * kMicrosPerSecond;
const Micros kLastInstant = days_from_civil(10000, 1, 1) * kSecondsPerDay * kMicrosPerSecond - 1;

/// Reads RFC 3339 text left to right.
class Scanner {
public:
    explicit Scanner(std::string_view text) : text_(text) {}

    /// Exactly `n` digits as a number.
    bool digits(std::size_t n, std::int64_t &out) {
        if (text_.size() - pos_ < n) return false;
        std::int64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const char c = text_[pos_ + i];
            if (c < '0' || c > '9') return false;
            v = v * 10 + (c - '0');
        }
        pos_ += n;
        out = v;
        return true;
    }
    /// Consumes `c` if it comes next.
    bool literal(char c) {
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    /// One or more digits of a fraction of a second, as microseconds (digits past six dropped).
    bool fraction(std::int64_t &micros) {
        std::size_t n = 0;
        std::int64_t v = 0;
        for (; pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9'; ++pos_, ++n)
            if (n < 6) v = v * 10 + (text_[pos_] - '0');
        if (n == 0) return false;
        for (; n < 6; ++n) v *= 10;
        micros = v;
        return true;
    }
    bool done() const { return pos_ == text_.size(); }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

/// `n` in decimal, zero-padded to `width` digits.
std::string padded(std::int64_t n, std::size_t width) {
    std::string s = std::to_string(n);
    if (s.size() < width) s.insert(0, width - s.size(), '0');
    return s;
}

}  // namespace

std::optional<Micros> parse_rfc3339(std::string_view text) {
    Scanner in(text);
    std::int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, micros = 0;
    if (!in.digits(4, year) || !in.literal('-') || !in.digits(2, month) || !in.literal('-') ||
        !in.digits(2, day))
        return std::nullopt;
    if (!in.literal('T') && !in.literal('t') && !in.literal(' ')) return std::nullopt;
    if (!in.digits(2, hour) || !in.literal(':') || !in.digits(2, minute) || !in.literal(':') ||
        !in.digits(2, second))
        return std::nullopt;
    if (in.literal('.') && !in.fraction(micros)) return std::nullopt;
    std::int64_t offset_minutes = 0;
    if (!in.literal('Z') && !in.literal('z')) {
        const bool east = in.literal('+');
        if (!east && !in.literal('-')) return std::nullopt;  // RFC 3339 requires an offset
        std::int64_t oh = 0, om = 0;
        if (!in.digits(2, oh) || !in.literal(':') || !in.digits(2, om) || oh > 23 || om > 59)
            return std::nullopt;
        offset_minutes = (east ? 1 : -1) * (oh * 60 + om);
    }
    if (!in.done()) return std::nullopt;
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
        hour > 23 || minute > 59 || second > 59)
        return std::nullopt;
    const std::int64_t seconds = days_from_civil(year, month, day) * kSecondsPerDay + hour * 3600 +
                                 minute * 60 + second - offset_minutes * 60;
    const Micros instant = seconds * kMicrosPerSecond + micros;
    if (instant < kFirstInstant || instant > kLastInstant) return std::nullopt;
    return instant;
}

std::string format_rfc3339(Micros instant) {
    // Floor division, so instants before 1970 split into a day and a non-negative time of day.
    std::int64_t seconds = instant / kMicrosPerSecond;
    std::int64_t micros = instant % kMicrosPerSecond;
    if (micros < 0) {
        micros += kMicrosPerSecond;
        --seconds;
    }
    std::int64_t days = seconds / kSecondsPerDay;
    std::int64_t of_day = seconds % kSecondsPerDay;
    if (of_day < 0) {
        of_day += kSecondsPerDay;
        --days;
    }
    const Civil date = civil_from_days(days);
    std::string out = padded(date.year, 4) + '-' + padded(date.month, 2) + '-' +
                      padded(date.day, 2) + 'T' + padded(of_day / 3600, 2) + ':' +
                      padded(of_day / 60 % 60, 2) + ':' + padded(of_day % 60, 2);
    if (micros != 0) out += '.' + padded(micros, 6);
    return out + 'Z';
}

bool Rule::valid_at(Micros instant) const {
    return (!valid_from || *valid_from <= instant) && (!valid_until || instant < *valid_until);
}

const Rule *quantity_rule_for(const std::vector<Rule> &rules, std::int64_t quantity, Micros at) {
    const Rule *best = nullptr;
    for (const auto &r : rules) {
        if (r.kind != RuleKind::quantity || r.min_quantity > quantity || !r.valid_at(at)) continue;
        if (!best || r.min_quantity > best->min_quantity) best = &r;
    }
    return best;
}

const Rule *tier_rule_for(const std::vector<Rule> &rules, std::string_view tier, Micros at) {
    for (const auto &r : rules)
        if (r.kind == RuleKind::tier && r.tier == tier && r.valid_at(at)) return &r;
    return nullptr;
}

const Rule *customer_rule_for(const std::vector<Rule> &rules, std::int64_t customer_id, Micros at) {
    for (const auto &r : rules)
        if (r.kind == RuleKind::customer && r.customer_id == customer_id && r.valid_at(at))
            return &r;
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
    const Rule *customer_rule =
        in.customer_id ? customer_rule_for(rules, *in.customer_id, in.at) : nullptr;
    for (const Rule *rule : {quantity_rule_for(rules, in.quantity, in.at),
                             tier_rule_for(rules, in.tier, in.at), customer_rule}) {
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

Price cap_discount(const PriceInput &in, Price price, BasisPoints max_discount) {
    if (max_discount < 0 || max_discount > 10000)
        throw std::invalid_argument("discount cap outside 0..100 %");
    Cents undiscounted = in.base_price + in.variant_delta;
    if (undiscounted < 0) undiscounted = 0;
    const Cents floor = apply_percent_off(undiscounted, max_discount);
    if (price.unit_price < floor) {
        price.unit_price = floor;
        price.total = floor * in.quantity;
    }
    return price;
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
/// and messages for both; only the tier's name, whether the variant is required and whether a
/// customer may be named (`customer_id` non-null: the service) differ.
PriceQuery read_price_request(const rapidjson::Value &object, const char *tier_key,
                              bool variant_required,
                              std::optional<std::int64_t> *customer_id = nullptr) {
    Fields f(object);
    PriceQuery request;
    request.variant_id = f.id("variant_id", variant_required);
    if (auto n = f.integer("quantity", false, kMinQuantity, kMaxQuantity)) request.quantity = *n;
    if (auto tier = tier_field(f, tier_key, false)) {
        request.tier = *tier;
        request.tier_given = true;
    }
    if (customer_id) *customer_id = f.id("customer_id", false);
    f.check();
    return request;
}

/// Whether `key` is in `body` with a non-null value (null counts as absent, as in Fields).
bool present(const rapidjson::Value &body, const char *key) {
    const auto it = body.FindMember(key);
    return it != body.MemberEnd() && !it->value.IsNull();
}

/// Records an error when a field of another kind of rule is given.
void forbid(Fields &f, const rapidjson::Value &body, const char *key, const char *kind) {
    if (present(body, key))
        f.error(key, std::string("A ") + kind + " rule has no " + key + "; omit it or send null.");
}

/// An RFC 3339 instant or null (absent: null); an error in `f` and nullopt when invalid.
std::optional<Micros> instant_field(Fields &f, const rapidjson::Value &body, const char *key) {
    const auto it = body.FindMember(key);
    if (it == body.MemberEnd() || it->value.IsNull()) return std::nullopt;
    std::optional<Micros> instant;
    if (it->value.IsString())
        instant = parse_rfc3339({it->value.GetString(), it->value.GetStringLength()});
    if (!instant)
        f.error(key,
                "Datetime has wrong format. Use RFC 3339 with an offset, e.g. "
                "2026-11-26T10:00:00Z.");
    return instant;
}

}  // namespace

PriceQuery parse_price_query(const Query &query) {
    return read_price_request(query_as_object(query, {"quantity", "user_tier", "variant_id"}),
                              "user_tier", false);
}

ServiceInput parse_service_input(std::string_view body) {
    std::optional<std::int64_t> customer_id;
    // check() has thrown unless variant_id is set.
    const PriceQuery request =
        read_price_request(parse_json_object(body), "tier", true, &customer_id);
    return ServiceInput{*request.variant_id, request.quantity, request.tier, customer_id};
}

Rule parse_new_rule(const rapidjson::Value &body) {
    Fields f(body);
    Rule rule;
    const auto kind = f.choice("kind", true, {"QUANTITY", "TIER", "CUSTOMER"});
    if (auto percent = f.percent("percent_off", true)) rule.percent_off = *percent;
    if (kind == "QUANTITY") {
        rule.kind = RuleKind::quantity;
        // An integer column: cap there so a huge value is a 400, not a numeric_value_out_of_range.
        rule.min_quantity =
            f.integer("min_quantity", true, 1, std::numeric_limits<std::int32_t>::max())
                .value_or(0);
        forbid(f, body, "tier", "QUANTITY");
        forbid(f, body, "customer_id", "QUANTITY");
    } else if (kind == "TIER") {
        rule.kind = RuleKind::tier;
        rule.tier = tier_field(f, "tier", true).value_or("");
        forbid(f, body, "min_quantity", "TIER");
        forbid(f, body, "customer_id", "TIER");
    } else if (kind == "CUSTOMER") {
        rule.kind = RuleKind::customer;
        rule.customer_id = f.id("customer_id", true).value_or(0);
        forbid(f, body, "min_quantity", "CUSTOMER");
        forbid(f, body, "tier", "CUSTOMER");
    }
    rule.valid_from = instant_field(f, body, "valid_from");
    rule.valid_until = instant_field(f, body, "valid_until");
    // Also a CHECK in the table; an empty or reversed window would be a rule that never counts.
    if (rule.valid_from && rule.valid_until && *rule.valid_from >= *rule.valid_until)
        f.error("valid_until", "Must be later than valid_from.");
    f.check();
    return rule;
}

Rule parse_rule_update(const Rule &current, const rapidjson::Value &body) {
    // The current rule as a body (numbers as strings, as parse_json_object keeps them), the
    // PATCH's members laid over it, validated as one new rule: one set of rules and messages.
    rapidjson::Document merged(rapidjson::kObjectType);
    auto &alloc = merged.GetAllocator();
    auto text = [&](const std::string &s) {
        return rapidjson::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), alloc);
    };
    auto nullable = [&](const std::optional<std::string> &s) {
        return s ? text(*s) : rapidjson::Value(rapidjson::kNullType);
    };
    auto when = [](bool set, std::string s) {
        return set ? std::optional<std::string>(std::move(s)) : std::nullopt;
    };
    auto instant = [](const std::optional<Micros> &t) {
        return t ? std::optional<std::string>(format_rfc3339(*t)) : std::nullopt;
    };
    merged.AddMember("kind", text(kind_name(current.kind)), alloc);
    merged.AddMember(
        "min_quantity",
        nullable(when(current.kind == RuleKind::quantity, std::to_string(current.min_quantity))),
        alloc);
    merged.AddMember("tier", nullable(when(current.kind == RuleKind::tier, current.tier)), alloc);
    merged.AddMember(
        "customer_id",
        nullable(when(current.kind == RuleKind::customer, std::to_string(current.customer_id))),
        alloc);
    merged.AddMember("percent_off", text(format_percent(current.percent_off)), alloc);
    merged.AddMember("valid_from", nullable(instant(current.valid_from)), alloc);
    merged.AddMember("valid_until", nullable(instant(current.valid_until)), alloc);
    for (const auto &m : body.GetObject()) {
        rapidjson::Value value(m.value, alloc);
        const auto it = merged.FindMember(m.name);
        if (it != merged.MemberEnd())
            it->value = value;
        else
            merged.AddMember(rapidjson::Value(m.name, alloc), value, alloc);
    }
    Rule rule = parse_new_rule(merged);
    rule.id = current.id;
    return rule;
}

ClientError overlapping_rule(const Rule &rule) {
    const std::string clash =
        " is valid during part of this rule's window (valid_from to "
        "valid_until); at most one may be valid at any instant.";
    switch (rule.kind) {
    case RuleKind::quantity:
        return validation_failed({{"min_quantity",
                                   {"Another QUANTITY rule with min_quantity " +
                                    std::to_string(rule.min_quantity) + clash}}});
    case RuleKind::tier:
        return validation_failed({{"tier", {"Another TIER rule for " + rule.tier + clash}}});
    case RuleKind::customer: break;
    }
    return validation_failed(
        {{"customer_id",
          {"Another CUSTOMER rule for customer " + std::to_string(rule.customer_id) + clash}}});
}

ClientError unknown_customer(std::int64_t customer_id) {
    return validation_failed(
        {{"customer_id",
          {"Invalid pk \"" + std::to_string(customer_id) + "\" - object does not exist."}}});
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

/// An instant as RFC 3339 UTC, or null (an open end of a window).
void put_instant(JsonWriter &w, const std::optional<Micros> &instant) {
    if (instant)
        put_string(w, format_rfc3339(*instant));
    else
        w.Null();
}

/// A rule as JSON; the rules API shows its conditions (min_quantity, tier, customer_id) and its
/// window, a price's applied_rules only which rule took how much off.
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
        put_key(w, "customer_id");
        if (rule.kind == RuleKind::customer)
            w.Int64(rule.customer_id);
        else
            w.Null();
    }
    put_key(w, "percent_off");
    put_string(w, format_percent(rule.percent_off));
    if (with_conditions) {
        put_key(w, "valid_from");
        put_instant(w, rule.valid_from);
        put_key(w, "valid_until");
        put_instant(w, rule.valid_until);
    }
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
