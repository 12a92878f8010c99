// The pricing plugin's edge as a library: the routes and the "price" service of plugins/pricing
// with their SQL (see pricing_engine.hpp). Every pricing build links it, in-tree or not.
#include "pricing_engine.hpp"

#include "shopd/sdk.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace shopd::pricing {
namespace {

/// What pricing_plugin_def() was given: the "engine" of every price ("pricing/<version>", which
/// plugin build computed it, visible across hot swaps) and the build's quote adjustment.
struct EngineSetup {
    std::string engine = "pricing/unknown";
    QuoteAdjust adjust = nullptr;
};

EngineSetup &setup() {
    static EngineSetup s;
    return s;
}

/// The quote of the standard rules, then the build's adjustment (if any).
Quote adjusted_quote(std::int64_t product_id, std::optional<std::int64_t> variant_id,
                     const PriceInput &input, const std::vector<Rule> &rules) {
    Quote quote = make_quote(product_id, variant_id, input, rules);
    if (setup().adjust) setup().adjust(quote);
    return quote;
}

// ---- rows -> domain values ------------------------------------------------------------------

// A rule's columns, as rule_from_row reads them: the window's ends as microseconds since the
// epoch (extract() is exact numeric since PostgreSQL 14), NULL for an open end.
#define PRICING_RULE_COLUMNS                                                \
    "id, kind, min_quantity, tier, customer_id, percent_off, "              \
    "(extract(epoch FROM valid_from) * 1000000)::bigint AS valid_from_us, " \
    "(extract(epoch FROM valid_until) * 1000000)::bigint AS valid_until_us"

/// An optional instant column (microseconds since the epoch).
std::optional<Micros> instant_column(const pqxx::field &f) {
    if (f.is_null()) return std::nullopt;
    return f.as<Micros>();
}

/// The rule in the PRICING_RULE_COLUMNS starting at column `first` of `row`. The columns have
/// CHECKs, so a value that does not parse is a server fault (500).
Rule rule_from_row(const pqxx::row &row, pqxx::row::size_type first = 0) {
    Rule rule;
    rule.id = row[first].as<std::int64_t>();
    const auto kind = parse_kind(row[first + 1].c_str());
    const auto percent = parse_percent(row[first + 5].c_str());
    if (!kind || !percent)
        throw std::runtime_error("malformed pricing rule " + std::to_string(rule.id));
    rule.kind = *kind;
    if (!row[first + 2].is_null()) rule.min_quantity = row[first + 2].as<std::int64_t>();
    if (!row[first + 3].is_null()) rule.tier = row[first + 3].c_str();
    if (!row[first + 4].is_null()) rule.customer_id = row[first + 4].as<std::int64_t>();
    rule.percent_off = *percent;
    rule.valid_from = instant_column(row[first + 6]);
    rule.valid_until = instant_column(row[first + 7]);
    return rule;
}

/// A rule's values as statement parameters: a null const char * is how libpqxx 6.4 binds SQL
/// NULL, so each optional column is kept as text here and bound through or_null().
struct RuleParams {
    explicit RuleParams(const Rule &rule)
        : kind(kind_name(rule.kind)), percent_off(format_money(rule.percent_off)) {
        if (rule.kind == RuleKind::quantity) min_quantity = std::to_string(rule.min_quantity);
        if (rule.kind == RuleKind::tier) tier = rule.tier;
        if (rule.kind == RuleKind::customer) customer_id = std::to_string(rule.customer_id);
        // RFC 3339 with a 'Z', which ::timestamptz reads exactly whatever the session's TimeZone.
        if (rule.valid_from) valid_from = format_rfc3339(*rule.valid_from);
        if (rule.valid_until) valid_until = format_rfc3339(*rule.valid_until);
    }

    static const char *or_null(const std::optional<std::string> &s) {
        return s ? s->c_str() : nullptr;
    }

    const char *kind;
    std::string percent_off;  ///< basis points as "15.00": the NUMERIC(5,2) percentage
    std::optional<std::string> min_quantity, tier, customer_id, valid_from, valid_until;
};

// ---- the quote of the route and of the service ------------------------------------------------

// One round trip per quote: the price's starting point, the database's now() and the rules that
// apply now (at most one of each kind, by the exclusion constraints of sql/005), one row per rule
// or one row of NULL rule columns. compute_price still picks among what it gets (at the same
// now()), so it alone defines which rule applies.
#define PRICING_VALID_NOW " AND tstzrange(valid_from, valid_until) @> now()"
#define PRICING_APPLICABLE_RULES(QTY, TIER, CUSTOMER)                      \
    "LEFT JOIN LATERAL ("                                                  \
    "(SELECT " PRICING_RULE_COLUMNS                                        \
    " FROM pricing_rules"                                                  \
    "  WHERE kind = 'QUANTITY' AND min_quantity <= " QTY PRICING_VALID_NOW \
    " ORDER BY min_quantity DESC LIMIT 1)"                                 \
    " UNION ALL "                                                          \
    "(SELECT " PRICING_RULE_COLUMNS                                        \
    " FROM pricing_rules"                                                  \
    "  WHERE kind = 'TIER' AND tier = " TIER PRICING_VALID_NOW             \
    ")"                                                                    \
    " UNION ALL "                                                          \
    "(SELECT " PRICING_RULE_COLUMNS                                        \
    " FROM pricing_rules"                                                  \
    "  WHERE kind = 'CUSTOMER' AND customer_id = " CUSTOMER PRICING_VALID_NOW ")) r ON true "
#define PRICING_QUOTE_COLUMNS                                                               \
    "SELECT p.base_price, v.product_id, v.price_delta, v.archived_at IS NOT NULL, "         \
    "(extract(epoch FROM now()) * 1000000)::bigint, r.id, r.kind, r.min_quantity, r.tier, " \
    "r.customer_id, r.percent_off, r.valid_from_us, r.valid_until_us "
/// Where the rule columns start in a quote row.
constexpr pqxx::row::size_type kQuoteRuleColumn = 5;
// The route: base_price, the variant's product_id, price_delta and whether it is archived (NULL
// when $2 is NULL or unknown), now, then the rule. No row: unknown or archived product.
const Statement kProductQuote{
    "pricing.product_quote", PRICING_QUOTE_COLUMNS
    "FROM products p LEFT JOIN variants v ON v.id = $2 " PRICING_APPLICABLE_RULES(
        "$3", "$4", "$5") "WHERE p.id = $1 AND p.archived_at IS NULL"};
// The service: the same columns, found from the variant. No row: unknown variant, or the variant
// or its product archived (gone for every new price).
const Statement kVariantQuote{
    "pricing.variant_quote", PRICING_QUOTE_COLUMNS
    "FROM variants v JOIN products p ON p.id = v.product_id " PRICING_APPLICABLE_RULES(
        "$2", "$3", "$4") "WHERE v.id = $1 AND v.archived_at IS NULL AND p.archived_at IS NULL"};

/// Rows of kProductQuote / kVariantQuote: the variant's product (nullopt: no such variant), the
/// price input, and the rules that can apply.
struct QuoteRows {
    std::optional<std::int64_t> variant_product_id;
    bool variant_archived = false;
    Cents base_price = 0;
    Cents delta = 0;
    Micros now = 0;
    std::vector<Rule> rules;

    PriceInput input(std::int64_t quantity, const std::string &tier,
                     std::optional<std::int64_t> customer_id) const {
        return PriceInput{base_price, delta, quantity, tier, customer_id, now};
    }
};

QuoteRows quote_rows(const pqxx::result &rows) {
    QuoteRows q;
    q.base_price = money_column(rows[0][0]);
    if (!rows[0][1].is_null()) {
        q.variant_product_id = rows[0][1].as<std::int64_t>();
        q.delta = money_column(rows[0][2]);
        q.variant_archived = rows[0][3].as<bool>();
    }
    q.now = rows[0][4].as<Micros>();
    for (const auto &row : rows)
        if (!row[kQuoteRuleColumn].is_null())
            q.rules.push_back(rule_from_row(row, kQuoteRuleColumn));
    return q;
}

/// The customer a quote is for: the owner of the bearer token, or none without a token. An
/// unknown token is a 401, as DRF's TokenAuthentication answers; the admin token is a valid
/// credential of no customer, so it gets the public quote.
std::optional<Customer> quote_customer(const Ctx &ctx, pqxx::transaction_base &tx) {
    if (ctx.raw().bearer_token[0] == '\0' || ctx.raw().is_admin) return std::nullopt;
    return ctx.require_customer(tx);
}

void get_price(const Ctx &ctx) {
    const auto product_id = ctx.id_param(0);
    // Read statements, each atomic on its own: a BEGIN/COMMIT pair would only add round trips.
    pqxx::nontransaction tx(ctx.db());
    // Authentication first, as in DRF: a bad token is a 401 whatever the query says.
    const std::optional<Customer> customer = quote_customer(ctx, tx);
    PriceQuery query = parse_price_query(ctx.query());
    // A customer's quote is at the customer's tier unless ?user_tier= asks for another.
    if (customer && !query.tier_given) query.tier = customer->tier;
    const std::optional<std::int64_t> customer_id =
        customer ? std::optional<std::int64_t>(customer->id) : std::nullopt;
    // Ids are bound as text (libpqxx 6.4 binds a null const char * as SQL NULL).
    const std::string variant =
        query.variant_id ? std::to_string(*query.variant_id) : std::string();
    const std::string customer_text = customer_id ? std::to_string(*customer_id) : std::string();
    const auto rows =
        exec(tx, kProductQuote, product_id, query.variant_id ? variant.c_str() : nullptr,
             query.quantity, query.tier, customer_id ? customer_text.c_str() : nullptr);
    tx.commit();
    if (rows.empty()) throw not_found("Product " + std::to_string(product_id) + " does not exist.");
    const QuoteRows q = quote_rows(rows);
    if (query.variant_id) {
        if (!q.variant_product_id) throw unknown_variant(*query.variant_id);
        if (*q.variant_product_id != product_id)
            throw foreign_variant(*query.variant_id, product_id);
        if (q.variant_archived)
            throw not_found("Variant " + std::to_string(*query.variant_id) + " does not exist.");
    }
    const Quote quote = adjusted_quote(product_id, query.variant_id,
                                       q.input(query.quantity, query.tier, customer_id), q.rules);
    ctx.reply(200, price_json(quote, setup().engine));
}

/// The "price" service: see pricing_domain.hpp for its input and output.
void serve_price(const Ctx &ctx) {
    // Not ctx.json_body(): that checks the Content-Type of the caller's HTTP request, which has
    // nothing to do with this input.
    const ServiceInput input = parse_service_input(ctx.body_text());
    pqxx::transaction_base *tx = ctx.caller_txn();
    if (!tx) throw std::logic_error("price service called without the caller's transaction");
    const std::string customer_text =
        input.customer_id ? std::to_string(*input.customer_id) : std::string();
    const auto rows = exec(*tx, kVariantQuote, input.variant_id, input.quantity, input.tier,
                           input.customer_id ? customer_text.c_str() : nullptr);
    if (rows.empty())
        throw not_found("Variant " + std::to_string(input.variant_id) + " does not exist.");
    const QuoteRows q = quote_rows(rows);
    const Quote quote =
        adjusted_quote(*q.variant_product_id, input.variant_id,
                       q.input(input.quantity, input.tier, input.customer_id), q.rules);
    ctx.reply(200, service_price_json(quote, setup().engine));
}

// ---- rules ------------------------------------------------------------------------------------

const Statement kCountRules{"pricing.count_rules", "SELECT count(*) FROM pricing_rules"};
const Statement kRulesPage{"pricing.rules_page",
                           "SELECT " PRICING_RULE_COLUMNS
                           " FROM pricing_rules ORDER BY id LIMIT $1 OFFSET $2"};

void list_rules(const Ctx &ctx) {
    const auto page = parse_page_request(ctx.query());
    pqxx::nontransaction tx(
        ctx.db());  // reads only; READ COMMITTED gives each its own snapshot anyway
    const auto count = exec(tx, kCountRules)[0][0].as<std::int64_t>();
    if (!page_exists(page, count)) throw not_found("Invalid page.");
    std::vector<Rule> rules;
    for (const auto &row : exec(tx, kRulesPage, page.page_size, page.offset()))
        rules.push_back(rule_from_row(row));
    tx.commit();
    reply_page(ctx, page, count, rules, write_rule);
}

/// Runs `write` (an INSERT or UPDATE of `rule`), turning what only the database can know into
/// the 400s of the rule's fields: another rule valid during part of the window (the exclusion
/// constraints, SQLSTATE 23P01; they decide, so two concurrent writes cannot both win) and a
/// customer that does not exist (the foreign key, 23503).
template <class Write>
void write_rule_checked(const Rule &rule, Write &&write) {
    try {
        write();
    } catch (const pqxx::foreign_key_violation &) {
        throw unknown_customer(rule.customer_id);
    } catch (const pqxx::integrity_constraint_violation &e) {
        if (e.sqlstate() == "23P01") throw overlapping_rule(rule);
        throw;
    }
}

const Statement kInsertRule{
    "pricing.insert_rule",
    "INSERT INTO pricing_rules "
    "(kind, min_quantity, tier, customer_id, percent_off, valid_from, valid_until) "
    "VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $7::timestamptz) RETURNING id"};

void create_rule(const Ctx &ctx) {
    ctx.require_admin();
    Rule rule = parse_new_rule(ctx.json_body());
    const RuleParams p(rule);
    pqxx::work tx(ctx.db());
    write_rule_checked(rule, [&] {
        rule.id =
            exec(tx, kInsertRule, p.kind, RuleParams::or_null(p.min_quantity),
                 RuleParams::or_null(p.tier), RuleParams::or_null(p.customer_id), p.percent_off,
                 RuleParams::or_null(p.valid_from), RuleParams::or_null(p.valid_until))[0][0]
                .as<std::int64_t>();
    });
    tx.commit();
    ctx.reply(201, render_json([&](JsonWriter &w) { write_rule(w, rule); }));
}

// The row stays locked until the update commits, so two PATCHes of one rule merge one after the
// other instead of the second overwriting the first with fields of the old row.
const Statement kLockRule{"pricing.lock_rule", "SELECT " PRICING_RULE_COLUMNS
                                               " FROM pricing_rules WHERE id = $1 "
                                               "FOR UPDATE"};
const Statement kUpdateRule{
    "pricing.update_rule",
    "UPDATE pricing_rules SET kind = $2, min_quantity = $3, tier = $4, customer_id = $5, "
    "percent_off = $6, valid_from = $7::timestamptz, valid_until = $8::timestamptz WHERE id = $1"};

void update_rule(const Ctx &ctx) {
    ctx.require_admin();
    const auto id = ctx.id_param(0);
    pqxx::work tx(ctx.db());
    const auto rows = exec(tx, kLockRule, id);
    // Unknown before invalid, as DRF looks the object up before it reads the body.
    if (rows.empty()) throw not_found("Pricing rule " + std::to_string(id) + " does not exist.");
    const Rule rule = parse_rule_update(rule_from_row(rows[0]), ctx.json_body());
    const RuleParams p(rule);
    write_rule_checked(rule, [&] {
        exec(tx, kUpdateRule, id, p.kind, RuleParams::or_null(p.min_quantity),
             RuleParams::or_null(p.tier), RuleParams::or_null(p.customer_id), p.percent_off,
             RuleParams::or_null(p.valid_from), RuleParams::or_null(p.valid_until));
    });
    tx.commit();
    ctx.reply(200, render_json([&](JsonWriter &w) { write_rule(w, rule); }));
}

const Statement kDeleteRule{"pricing.delete_rule", "DELETE FROM pricing_rules WHERE id = $1"};

void delete_rule(const Ctx &ctx) {
    ctx.require_admin();
    const auto id = ctx.id_param(0);
    pqxx::work tx(ctx.db());
    const auto deleted = exec(tx, kDeleteRule, id).affected_rows();
    tx.commit();
    if (deleted == 0) throw not_found("Pricing rule " + std::to_string(id) + " does not exist.");
    ctx.reply_empty(204);
}

}  // namespace

PluginDef pricing_plugin_def(const char *version, QuoteAdjust adjust, Configure configure) {
    setup().engine = std::string("pricing/") + version;
    setup().adjust = adjust;
    return PluginDef{"pricing",
                     version,
                     {{"GET", "/api/pricing/{id}/price/", get_price},
                      {"GET", "/api/pricing/rules/", list_rules},
                      {"POST", "/api/pricing/rules/", create_rule},
                      {"PATCH", "/api/pricing/rules/{id}/", update_rule},
                      {"DELETE", "/api/pricing/rules/{id}/", delete_rule}},
                     {{kPriceService, serve_price}},
                     {},
                     configure};
}

}  // namespace shopd::pricing
