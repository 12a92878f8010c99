// pricing plugin: the plugin edge (descriptor, routes, "price" service) and its SQL. Built once
// per variant (pricing, pricing_v2, pricing_badabi) with its own version / ABI definitions.
#include "pricing.hpp"
#include "pricing_service.hpp"

#include "shopd/sdk.hpp"

#include <cstring>
#include <stdexcept>

#ifndef SHOPD_PRICING_VERSION
#error "the build defines SHOPD_PRICING_VERSION (see plugins/pricing/CMakeLists.txt)"
#endif
// Only pricing_badabi overrides this: the hot-swap test needs a plugin the host must refuse.
#ifndef SHOPD_PRICING_ABI_VERSION
#define SHOPD_PRICING_ABI_VERSION SHOPD_PLUGIN_ABI_VERSION
#endif

namespace shopd::pricing {
namespace {

constexpr const char *kName = "pricing";
constexpr const char *kVersion = SHOPD_PRICING_VERSION;
/// The "engine" of every price: which plugin build computed it (visible across hot swaps).
constexpr const char *kEngine = "pricing/" SHOPD_PRICING_VERSION;

// A statement's SQL never changes under the same name: a hot-swapped build reuses the worker
// connections on which the previous build prepared it, and libpqxx 6.4 refuses a redefinition
// (argument_error). Changed SQL gets a new name.
// One round trip per quote: the price's starting point and the rules that can apply (at most one
// of each kind, both via the unique partial indexes), one row per rule or one row of NULL rule
// columns. compute_price still picks among what it gets, so it alone defines which rule applies.
#define PRICING_APPLICABLE_RULES(QTY, TIER)                                                     \
    "LEFT JOIN LATERAL ("                                                                      \
    "(SELECT id, kind, min_quantity, tier, percent_off FROM pricing_rules"                    \
    "  WHERE kind = 'QUANTITY' AND min_quantity <= " QTY " ORDER BY min_quantity DESC LIMIT 1)" \
    " UNION ALL "                                                                              \
    "(SELECT id, kind, min_quantity, tier, percent_off FROM pricing_rules"                    \
    "  WHERE kind = 'TIER' AND tier = " TIER ")) r ON true "
// The route: columns base_price, the variant's product_id and price_delta (NULL when $2 is NULL
// or unknown), then the rule. No row: unknown product.
const Statement kProductQuote{
    "pricing.product_quote",
    "SELECT p.base_price, v.product_id, v.price_delta, r.id, r.kind, r.min_quantity, r.tier, r.percent_off "
    "FROM products p LEFT JOIN variants v ON v.id = $2 " PRICING_APPLICABLE_RULES("$3", "$4") "WHERE p.id = $1"};
// The service: the same columns, found from the variant. No row: unknown variant.
const Statement kVariantQuote{
    "pricing.variant_quote",
    "SELECT p.base_price, v.product_id, v.price_delta, r.id, r.kind, r.min_quantity, r.tier, r.percent_off "
    "FROM variants v JOIN products p ON p.id = v.product_id " PRICING_APPLICABLE_RULES("$2", "$3") "WHERE v.id = $1"};
const Statement kCountRules{"pricing.count_rules", "SELECT count(*) FROM pricing_rules"};
const Statement kRulesPage{
    "pricing.rules_page",
    "SELECT id, kind, min_quantity, tier, percent_off FROM pricing_rules ORDER BY id LIMIT $1 OFFSET $2"};
const Statement kInsertRule{
    "pricing.insert_rule",
    "INSERT INTO pricing_rules (kind, min_quantity, tier, percent_off) VALUES ($1, $2, $3, $4) RETURNING id"};
const Statement kDeleteRule{"pricing.delete_rule", "DELETE FROM pricing_rules WHERE id = $1"};

enum Route { GET_PRICE, LIST_RULES, CREATE_RULE, DELETE_RULE };

const shopd_route kRoutes[] = {
    {"GET", "/api/pricing/{id}/price/", GET_PRICE},
    {"GET", "/api/pricing/rules/", LIST_RULES},
    {"POST", "/api/pricing/rules/", CREATE_RULE},
    {"DELETE", "/api/pricing/rules/{id}/", DELETE_RULE},
};

const char *const kServices[] = {kPriceService};

// ---- rows -> domain values ------------------------------------------------------------------
// The columns are NUMERIC with CHECKs, so a value that does not parse is a server fault (500).

Cents money_value(const pqxx::field &f) {
    const auto cents = parse_money(f.c_str());
    if (!cents) throw std::runtime_error(std::string("unexpected amount \"") + f.c_str() + "\" in " + f.name());
    return *cents;
}

/// The rule in columns first..first+4 (id, kind, min_quantity, tier, percent_off) of `row`.
Rule rule_from_row(const pqxx::row &row, pqxx::row::size_type first = 0) {
    Rule rule;
    rule.id = row[first].as<std::int64_t>();
    const auto kind = parse_kind(row[first + 1].c_str());
    const auto percent = parse_percent(row[first + 4].c_str());
    if (!kind || !percent) throw std::runtime_error("malformed pricing rule " + std::to_string(rule.id));
    rule.kind = *kind;
    if (!row[first + 2].is_null()) rule.min_quantity = row[first + 2].as<std::int64_t>();
    if (!row[first + 3].is_null()) rule.tier = row[first + 3].c_str();
    rule.percent_off = *percent;
    return rule;
}

std::vector<Rule> rules_from(const pqxx::result &rows) {
    std::vector<Rule> rules;
    rules.reserve(rows.size());
    for (const auto &row : rows) rules.push_back(rule_from_row(row));
    return rules;
}

// ---- the quote row shared by the route and the service ----------------------------------------

/// Rows of kProductQuote / kVariantQuote: the variant's product (nullopt: no such variant), the
/// price input, and the rules that can apply.
struct QuoteRows {
    std::optional<std::int64_t> variant_product_id;
    Cents base_price = 0;
    Cents delta = 0;
    std::vector<Rule> rules;
};

QuoteRows quote_rows(const pqxx::result &rows) {
    QuoteRows q;
    q.base_price = money_value(rows[0][0]);
    if (!rows[0][1].is_null()) {
        q.variant_product_id = rows[0][1].as<std::int64_t>();
        q.delta = money_value(rows[0][2]);
    }
    for (const auto &row : rows)
        if (!row[3].is_null()) q.rules.push_back(rule_from_row(row, 3));
    return q;
}

// ---- handlers ------------------------------------------------------------------------------

void get_price(const Ctx &ctx) {
    const auto product_id = ctx.id_param(0);
    const auto query = parse_price_query(ctx.query());
    Quote quote;
    quote.product_id = product_id;
    quote.variant_id = query.variant_id;
    quote.input.quantity = query.quantity;
    quote.input.tier = query.tier;
    // One read statement, atomic on its own: a BEGIN/COMMIT pair would only add round trips.
    pqxx::nontransaction tx(ctx.db());
    // A variant id is bound as text (libpqxx 6.4 binds a null const char * as SQL NULL).
    const std::string variant = query.variant_id ? std::to_string(*query.variant_id) : std::string();
    const auto rows = exec(tx, kProductQuote, product_id, query.variant_id ? variant.c_str() : nullptr,
                           query.quantity, query.tier);
    tx.commit();
    if (rows.empty()) throw not_found("Product " + std::to_string(product_id) + " does not exist.");
    const QuoteRows q = quote_rows(rows);
    if (query.variant_id) {
        if (!q.variant_product_id) throw unknown_variant(*query.variant_id);
        if (*q.variant_product_id != product_id) throw foreign_variant(*query.variant_id, product_id);
    }
    quote.input.base_price = q.base_price;
    quote.input.variant_delta = q.delta;
    quote.price = compute_price(quote.input, q.rules);
    ctx.reply(200, price_json(quote, kEngine));
}

void list_rules(const Ctx &ctx) {
    const auto page = parse_page_request(ctx.query());
    pqxx::nontransaction tx(ctx.db());  // reads only; READ COMMITTED gives each its own snapshot anyway
    const auto count = exec(tx, kCountRules)[0][0].as<std::int64_t>();
    if (!page_exists(page, count)) throw not_found("Invalid page.");
    const auto rules = rules_from(exec(tx, kRulesPage, page.page_size, page.offset()));
    tx.commit();
    reply_page(ctx, page, count, rules, write_rule);
}

ClientError duplicate_rule(const Rule &rule) {
    if (rule.kind == RuleKind::quantity)
        return validation_failed({{"min_quantity", {"A QUANTITY rule with min_quantity " +
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
        rule.id = exec(tx, kInsertRule, kind_name(rule.kind), by_quantity ? min_quantity.c_str() : nullptr,
                       by_quantity ? nullptr : rule.tier.c_str(), format_money(rule.percent_off))[0][0]
                      .as<std::int64_t>();
    } catch (const pqxx::unique_violation &) {
        // The unique partial indexes decide, so two concurrent creates cannot both win.
        throw duplicate_rule(rule);
    }
    tx.commit();
    ctx.reply(201, render_json([&](JsonWriter &w) { write_rule(w, rule); }));
}

void delete_rule(const Ctx &ctx) {
    ctx.require_admin();
    const auto id = ctx.id_param(0);
    pqxx::work tx(ctx.db());
    const auto deleted = exec(tx, kDeleteRule, id).affected_rows();
    tx.commit();
    if (deleted == 0) throw not_found("Pricing rule " + std::to_string(id) + " does not exist.");
    ctx.reply_empty(204);
}

/// The "price" service: see pricing_service.hpp for its input and output.
void serve_price(const Ctx &ctx) {
    // Not ctx.json_body(): that checks the Content-Type of the caller's HTTP request, which has
    // nothing to do with this input.
    const auto input = parse_service_input(ctx.body_text());
    pqxx::transaction_base *tx = ctx.caller_txn();
    if (!tx) throw std::logic_error("price service called without the caller's transaction");
    const auto rows = exec(*tx, kVariantQuote, input.variant_id, input.quantity, input.tier);
    if (rows.empty()) throw not_found("Variant " + std::to_string(input.variant_id) + " does not exist.");
    const QuoteRows q = quote_rows(rows);
    Quote quote;
    quote.product_id = *q.variant_product_id;
    quote.variant_id = input.variant_id;
    quote.input = PriceInput{q.base_price, q.delta, input.quantity, input.tier};
    quote.price = compute_price(quote.input, q.rules);
    ctx.reply(200, service_price_json(quote, kEngine));
}

// ---- C ABI ----------------------------------------------------------------------------------

void handle(void *, int route, const shopd_request *req, shopd_response *resp) {
    const Ctx ctx(kName, req, resp);
    run_guarded(ctx, [&] {
        switch (route) {
        case GET_PRICE: return get_price(ctx);
        case LIST_RULES: return list_rules(ctx);
        case CREATE_RULE: return create_rule(ctx);
        case DELETE_RULE: return delete_rule(ctx);
        }
        throw not_found();
    });
}

void serve(void *, const char *service, const shopd_request *req, shopd_response *resp) {
    const Ctx ctx(kName, req, resp);
    run_guarded(ctx, [&] {
        if (std::strcmp(service, kPriceService) != 0) throw not_found(std::string("No service ") + service + ".");
        serve_price(ctx);
    });
}

}  // namespace
}  // namespace shopd::pricing

extern "C" SHOPD_EXPORT const shopd_plugin *pricing_shopd_plugin(void) {
    using namespace shopd::pricing;
    static const shopd_plugin descriptor = {
        sizeof(shopd_plugin),                     /* struct_size                            */
        SHOPD_PRICING_ABI_VERSION,                /* abi_version (wrong in pricing_badabi)  */
        SHOPD_BUILD_SIGNATURE,                    /* build_signature                        */
        kName,                                    /* name: folder, target, symbol prefix    */
        kVersion,                                 /* version, from the build                */
        kRoutes,                                  /* routes                                 */
        sizeof kRoutes / sizeof kRoutes[0],       /* route_count                            */
        kServices,                                /* services: "price"                      */
        sizeof kServices / sizeof kServices[0],   /* service_count                          */
        shopd::stateless_init,                    /* init                                   */
        handle,                                   /* handle                                 */
        serve,                                    /* serve                                  */
        shopd::stateless_shutdown,                /* shutdown                               */
        {}};                                      /* spare                                  */
    return &descriptor;
}
