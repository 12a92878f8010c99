// pricing plugin: prices (GET /api/pricing/{id}/price/), pricing rules and the "price" service,
// with their SQL. Built once per variant (pricing, pricing_v2, pricing_badabi) with its own
// version / ABI definitions; the rules themselves are in pricing_domain.
#include "pricing_domain.hpp"

#include "shopd/plugin_def.hpp"
#include "shopd/sdk.hpp"

#include <stdexcept>

#ifndef SHOPD_PRICING_VERSION
#error "the build defines SHOPD_PRICING_VERSION (see plugins/pricing/CMakeLists.txt)"
#endif

namespace shopd::pricing {
namespace {

/// The "engine" of every price: which plugin build computed it (visible across hot swaps).
constexpr const char *kEngine = "pricing/" SHOPD_PRICING_VERSION;

// ---- rows -> domain values ------------------------------------------------------------------

/// The rule in columns first..first+4 (id, kind, min_quantity, tier, percent_off) of `row`. The
/// columns have CHECKs, so a value that does not parse is a server fault (500).
Rule rule_from_row(const pqxx::row &row, pqxx::row::size_type first = 0) {
    Rule rule;
    rule.id = row[first].as<std::int64_t>();
    const auto kind = parse_kind(row[first + 1].c_str());
    const auto percent = parse_percent(row[first + 4].c_str());
    if (!kind || !percent)
        throw std::runtime_error("malformed pricing rule " + std::to_string(rule.id));
    rule.kind = *kind;
    if (!row[first + 2].is_null()) rule.min_quantity = row[first + 2].as<std::int64_t>();
    if (!row[first + 3].is_null()) rule.tier = row[first + 3].c_str();
    rule.percent_off = *percent;
    return rule;
}

// ---- the quote of the route and of the service ------------------------------------------------

// One round trip per quote: the price's starting point and the rules that can apply (at most one
// of each kind, both via the unique partial indexes), one row per rule or one row of NULL rule
// columns. compute_price still picks among what it gets, so it alone defines which rule applies.
#define PRICING_APPLICABLE_RULES(QTY, TIER)                                \
    "LEFT JOIN LATERAL ("                                                  \
    "(SELECT id, kind, min_quantity, tier, percent_off FROM pricing_rules" \
    "  WHERE kind = 'QUANTITY' AND min_quantity <= " QTY                   \
    " ORDER BY min_quantity DESC LIMIT 1)"                                 \
    " UNION ALL "                                                          \
    "(SELECT id, kind, min_quantity, tier, percent_off FROM pricing_rules" \
    "  WHERE kind = 'TIER' AND tier = " TIER ")) r ON true "
// The route: columns base_price, the variant's product_id and price_delta (NULL when $2 is NULL
// or unknown), then the rule. No row: unknown product.
const Statement kProductQuote{
    "pricing.product_quote",
    "SELECT p.base_price, v.product_id, v.price_delta, r.id, r.kind, r.min_quantity, r.tier, r.percent_off "
    "FROM products p LEFT JOIN variants v ON v.id = $2 " PRICING_APPLICABLE_RULES(
        "$3", "$4") "WHERE p.id = $1"};
// The service: the same columns, found from the variant. No row: unknown variant.
const Statement kVariantQuote{
    "pricing.variant_quote",
    "SELECT p.base_price, v.product_id, v.price_delta, r.id, r.kind, r.min_quantity, r.tier, r.percent_off "
    "FROM variants v JOIN products p ON p.id = v.product_id " PRICING_APPLICABLE_RULES(
        "$2", "$3") "WHERE v.id = $1"};

/// Rows of kProductQuote / kVariantQuote: the variant's product (nullopt: no such variant), the
/// price input, and the rules that can apply.
struct QuoteRows {
    std::optional<std::int64_t> variant_product_id;
    Cents base_price = 0;
    Cents delta = 0;
    std::vector<Rule> rules;

    PriceInput input(std::int64_t quantity, const std::string &tier) const {
        return PriceInput{base_price, delta, quantity, tier};
    }
};

QuoteRows quote_rows(const pqxx::result &rows) {
    QuoteRows q;
    q.base_price = money_column(rows[0][0]);
    if (!rows[0][1].is_null()) {
        q.variant_product_id = rows[0][1].as<std::int64_t>();
        q.delta = money_column(rows[0][2]);
    }
    for (const auto &row : rows)
        if (!row[3].is_null()) q.rules.push_back(rule_from_row(row, 3));
    return q;
}

void get_price(const Ctx &ctx) {
    const auto product_id = ctx.id_param(0);
    const PriceQuery query = parse_price_query(ctx.query());
    // One read statement, atomic on its own: a BEGIN/COMMIT pair would only add round trips.
    pqxx::nontransaction tx(ctx.db());
    // A variant id is bound as text (libpqxx 6.4 binds a null const char * as SQL NULL).
    const std::string variant =
        query.variant_id ? std::to_string(*query.variant_id) : std::string();
    const auto rows =
        exec(tx, kProductQuote, product_id, query.variant_id ? variant.c_str() : nullptr,
             query.quantity, query.tier);
    tx.commit();
    if (rows.empty()) throw not_found("Product " + std::to_string(product_id) + " does not exist.");
    const QuoteRows q = quote_rows(rows);
    if (query.variant_id) {
        if (!q.variant_product_id) throw unknown_variant(*query.variant_id);
        if (*q.variant_product_id != product_id)
            throw foreign_variant(*query.variant_id, product_id);
    }
    const Quote quote =
        make_quote(product_id, query.variant_id, q.input(query.quantity, query.tier), q.rules);
    ctx.reply(200, price_json(quote, kEngine));
}

/// The "price" service: see pricing_domain.hpp for its input and output.
void serve_price(const Ctx &ctx) {
    // Not ctx.json_body(): that checks the Content-Type of the caller's HTTP request, which has
    // nothing to do with this input.
    const ServiceInput input = parse_service_input(ctx.body_text());
    pqxx::transaction_base *tx = ctx.caller_txn();
    if (!tx) throw std::logic_error("price service called without the caller's transaction");
    const auto rows = exec(*tx, kVariantQuote, input.variant_id, input.quantity, input.tier);
    if (rows.empty())
        throw not_found("Variant " + std::to_string(input.variant_id) + " does not exist.");
    const QuoteRows q = quote_rows(rows);
    const Quote quote = make_quote(*q.variant_product_id, input.variant_id,
                                   q.input(input.quantity, input.tier), q.rules);
    ctx.reply(200, service_price_json(quote, kEngine));
}

// ---- rules ------------------------------------------------------------------------------------

const Statement kCountRules{"pricing.count_rules", "SELECT count(*) FROM pricing_rules"};
const Statement kRulesPage{
    "pricing.rules_page",
    "SELECT id, kind, min_quantity, tier, percent_off FROM pricing_rules ORDER BY id LIMIT $1 OFFSET $2"};

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

const Statement kInsertRule{
    "pricing.insert_rule",
    "INSERT INTO pricing_rules (kind, min_quantity, tier, percent_off) VALUES ($1, $2, $3, $4) RETURNING id"};

ClientError duplicate_rule(const Rule &rule) {
    if (rule.kind == RuleKind::quantity)
        return validation_failed({{"min_quantity",
                                   {"A QUANTITY rule with min_quantity " +
                                    std::to_string(rule.min_quantity) + " already exists."}}});
    return validation_failed({{"tier", {"A TIER rule for " + rule.tier + " already exists."}}});
}

void create_rule(const Ctx &ctx) {
    ctx.require_admin();
    Rule rule = parse_new_rule(ctx.json_body());
    const bool by_quantity = rule.kind == RuleKind::quantity;
    const std::string min_quantity = std::to_string(rule.min_quantity);
    pqxx::work tx(ctx.db());
    try {
        // A null const char * is how libpqxx 6.4 binds SQL NULL.
        rule.id =
            exec(tx, kInsertRule, kind_name(rule.kind),
                 by_quantity ? min_quantity.c_str() : nullptr,
                 by_quantity ? nullptr : rule.tier.c_str(), format_money(rule.percent_off))[0][0]
                .as<std::int64_t>();
    } catch (const pqxx::unique_violation &) {
        // The unique partial indexes decide, so two concurrent creates cannot both win.
        throw duplicate_rule(rule);
    }
    tx.commit();
    ctx.reply(201, render_json([&](JsonWriter &w) { write_rule(w, rule); }));
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

const PluginDef kPlugin{"pricing",
                        SHOPD_PRICING_VERSION,
                        {{"GET", "/api/pricing/{id}/price/", get_price},
                         {"GET", "/api/pricing/rules/", list_rules},
                         {"POST", "/api/pricing/rules/", create_rule},
                         {"DELETE", "/api/pricing/rules/{id}/", delete_rule}},
                        {{kPriceService, serve_price}}};

}  // namespace shopd::pricing

#ifdef SHOPD_PRICING_ABI_VERSION
// pricing_badabi only: the hot-swap test needs a build the host must refuse, so the descriptor
// is the real one with a wrong ABI version.
extern "C" SHOPD_EXPORT const shopd_plugin *pricing_shopd_plugin(void) {
    static const shopd_plugin descriptor = [] {
        shopd_plugin d = *shopd::describe(shopd::pricing::kPlugin);
        d.abi_version = SHOPD_PRICING_ABI_VERSION;
        return d;
    }();
    return &descriptor;
}
#else
SHOPD_PLUGIN(pricing, shopd::pricing::kPlugin)
#endif
