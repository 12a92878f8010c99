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
const Statement kProductBasePrice{"pricing.product_base_price", "SELECT base_price FROM products WHERE id = $1"};
// Shared by the route and the service: a variant with what its price starts from.
const Statement kVariantById{
    "pricing.variant_by_id",
    "SELECT v.product_id, p.base_price, v.price_delta FROM variants v JOIN products p ON p.id = v.product_id "
    "WHERE v.id = $1"};
// Only the rules that can apply (at most one of each kind, both via the unique partial indexes);
// compute_price still picks among what it gets, so it alone defines which rule applies.
const Statement kApplicableRules{
    "pricing.applicable_rules",
    "(SELECT id, kind, min_quantity, tier, percent_off FROM pricing_rules "
    "  WHERE kind = 'QUANTITY' AND min_quantity <= $1 ORDER BY min_quantity DESC LIMIT 1) "
    "UNION ALL "
    "(SELECT id, kind, min_quantity, tier, percent_off FROM pricing_rules WHERE kind = 'TIER' AND tier = $2)"};
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

Rule rule_from_row(const pqxx::row &row) {
    Rule rule;
    rule.id = row[0].as<std::int64_t>();
    const auto kind = parse_kind(row[1].c_str());
    const auto percent = parse_percent(row[4].c_str());
    if (!kind || !percent) throw std::runtime_error("malformed pricing rule " + std::to_string(rule.id));
    rule.kind = *kind;
    if (!row[2].is_null()) rule.min_quantity = row[2].as<std::int64_t>();
    if (!row[3].is_null()) rule.tier = row[3].c_str();
    rule.percent_off = *percent;
    return rule;
}

std::vector<Rule> rules_from(const pqxx::result &rows) {
    std::vector<Rule> rules;
    rules.reserve(rows.size());
    for (const auto &row : rows) rules.push_back(rule_from_row(row));
    return rules;
}

// ---- queries shared by the route and the service --------------------------------------------

struct VariantRow {
    std::int64_t product_id = 0;
    Cents base_price = 0;
    Cents delta = 0;
};

std::optional<VariantRow> find_variant(pqxx::transaction_base &tx, std::int64_t variant_id) {
    const auto rows = exec(tx, kVariantById, variant_id);
    if (rows.empty()) return std::nullopt;
    return VariantRow{rows[0][0].as<std::int64_t>(), money_value(rows[0][1]), money_value(rows[0][2])};
}

/// Fills quote.price from quote.input and the rules in the database.
void price_quote(pqxx::transaction_base &tx, Quote &quote) {
    const auto rules = rules_from(exec(tx, kApplicableRules, quote.input.quantity, quote.input.tier));
    quote.price = compute_price(quote.input, rules);
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
    // Reads only: under READ COMMITTED a BEGIN/COMMIT pair adds two round trips and no
    // consistency (each statement takes its own snapshot either way).
    pqxx::nontransaction tx(ctx.db());
    const auto product = exec(tx, kProductBasePrice, product_id);
    if (product.empty()) throw not_found("Product " + std::to_string(product_id) + " does not exist.");
    quote.input.base_price = money_value(product[0][0]);
    if (query.variant_id) {
        const auto variant = find_variant(tx, *query.variant_id);
        if (!variant) throw unknown_variant(*query.variant_id);
        if (variant->product_id != product_id) throw foreign_variant(*query.variant_id, product_id);
        quote.input.variant_delta = variant->delta;
    }
    price_quote(tx, quote);
    tx.commit();
    ctx.reply(200, price_json(quote, kEngine));
}

void list_rules(const Ctx &ctx) {
    const auto page = parse_page_request(ctx.query());
    pqxx::nontransaction tx(ctx.db());  // reads only, see get_price
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
    const auto variant = find_variant(*tx, input.variant_id);
    if (!variant) throw not_found("Variant " + std::to_string(input.variant_id) + " does not exist.");
    Quote quote;
    quote.product_id = variant->product_id;
    quote.variant_id = input.variant_id;
    quote.input = PriceInput{variant->base_price, variant->delta, input.quantity, input.tier};
    price_quote(*tx, quote);
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
