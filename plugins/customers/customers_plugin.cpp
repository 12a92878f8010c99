// customers plugin: creates customers and issues their bearer tokens; the admin lists, reads and
// updates them; a token is rotated by its customer or by the admin.
#include "customers_domain.hpp"

#include "shopd/plugin_def.hpp"
#include "shopd/sdk.hpp"

namespace shopd::customers {
namespace {

/// (id, name, tier) as the admin sees a customer; the token hash is never selected for output.
CustomerView customer_of(const pqxx::row &r) {
    return CustomerView{r[0].as<std::int64_t>(), r[1].c_str(), r[2].c_str()};
}

// ---------------------------------------------------------------------------------------------
// Create

// The token is shown once, in the 201 response; only its SHA-256 is stored.
const Statement kInsertCustomer{
    "customers.insert",
    "INSERT INTO customers (name, tier, token_hash) VALUES ($1, $2, $3) RETURNING id"};

void create_customer(const Ctx &ctx) {
    ctx.require_admin();
    const auto input = parse_new_customer(ctx.json_body());
    const std::string token = random_token(32);
    pqxx::work tx(ctx.db());
    const auto id = exec(tx, kInsertCustomer, input.name, input.tier, sha256_hex(token))[0][0]
                        .as<std::int64_t>();
    tx.commit();
    ctx.reply(201, render_created_customer(id, input, token));
}

// ---------------------------------------------------------------------------------------------
// Admin reads and updates

// The total count rides on every row (an uncorrelated subquery, computed once), so the page and
// its count come from one snapshot in one round trip.
const Statement kCustomerPage{"customers.page",
                              "SELECT id, name, tier, (SELECT count(*) FROM customers) "
                              "FROM customers ORDER BY id LIMIT $1 OFFSET $2"};

void list_customers(const Ctx &ctx) {
    ctx.require_admin();
    const auto page = parse_page_request(ctx.query());
    pqxx::nontransaction tx(ctx.db());  // one statement: atomic on its own
    const auto rows = exec(tx, kCustomerPage, page.page_size, page.offset());
    tx.commit();
    std::vector<CustomerView> items;
    for (const auto &r : rows) items.push_back(customer_of(r));
    // No row carries no count: 0 lets page 1 answer an empty list and any later page 404, which
    // is right whether the table is empty or the page is past its end.
    const std::int64_t count = rows.empty() ? 0 : rows[0][3].as<std::int64_t>();
    reply_page(ctx, page, count, items, write_customer);
}

const Statement kCustomerById{"customers.by_id",
                              "SELECT id, name, tier FROM customers WHERE id = $1"};

void get_customer(const Ctx &ctx) {
    ctx.require_admin();
    const auto id = ctx.id_param(0);
    pqxx::nontransaction tx(ctx.db());
    const auto rows = exec(tx, kCustomerById, id);
    tx.commit();
    if (rows.empty()) throw not_found();
    ctx.reply(200, render_customer(customer_of(rows[0])));
}

// A NULL parameter keeps the column as it is (both columns are NOT NULL, so NULL never means
// "clear" here). The CHECK constraints repeat what parse_customer_patch validated.
const Statement kUpdateCustomer{
    "customers.update",
    "UPDATE customers SET name = COALESCE($2, name), tier = COALESCE($3, tier) "
    "WHERE id = $1 RETURNING id, name, tier"};

void update_customer(const Ctx &ctx) {
    ctx.require_admin();
    const auto id = ctx.id_param(0);
    const auto patch = parse_customer_patch(ctx.json_body());
    pqxx::work tx(ctx.db());
    // A null const char * is how libpqxx 6.4 binds SQL NULL.
    const auto rows = exec(tx, kUpdateCustomer, id, patch.name ? patch.name->c_str() : nullptr,
                           patch.tier ? patch.tier->c_str() : nullptr);
    tx.commit();
    if (rows.empty()) throw not_found();
    ctx.reply(200, render_customer(customer_of(rows[0])));
}

// ---------------------------------------------------------------------------------------------
// Token rotation: a fresh 256-bit token replaces the stored hash in one UPDATE, so the old token
// fails from the commit on (every request looks its token's hash up anew).

// Matching on the old hash (not on an id read before) makes the check and the swap one atomic
// step: of two concurrent rotations with the same token, the second finds no row once the first
// commits (PostgreSQL re-checks the WHERE of an UPDATE that waited for a row lock) -> 401.
const Statement kRotateOwnToken{
    "customers.rotate_own_token",
    "UPDATE customers SET token_hash = $2 WHERE token_hash = $1 RETURNING id"};

void rotate_own_token(const Ctx &ctx) {
    const std::string old_token = ctx.raw().bearer_token;
    if (old_token.empty()) throw unauthorized();
    const std::string token = random_token(32);
    pqxx::work tx(ctx.db());
    const auto rows = exec(tx, kRotateOwnToken, sha256_hex(old_token), sha256_hex(token));
    tx.commit();
    if (rows.empty()) throw unauthorized("Invalid token.");
    ctx.reply(201, render_token(token));
}

const Statement kRotateToken{"customers.rotate_token",
                             "UPDATE customers SET token_hash = $2 WHERE id = $1 RETURNING id"};

void rotate_token(const Ctx &ctx) {
    ctx.require_admin();
    const auto id = ctx.id_param(0);
    const std::string token = random_token(32);
    pqxx::work tx(ctx.db());
    const auto rows = exec(tx, kRotateToken, id, sha256_hex(token));
    tx.commit();
    if (rows.empty()) throw not_found();
    ctx.reply(201, render_token(token));
}

const PluginDef kPlugin{"customers",
                        "1.1.0",
                        {{"POST", "/api/customers/", create_customer},
                         {"GET", "/api/customers/", list_customers},
                         {"GET", "/api/customers/{id}/", get_customer},
                         {"PATCH", "/api/customers/{id}/", update_customer},
                         {"POST", "/api/customers/me/token/", rotate_own_token},
                         {"POST", "/api/customers/{id}/token/", rotate_token}}};

}  // namespace
}  // namespace shopd::customers

SHOPD_PLUGIN(customers, shopd::customers::kPlugin)
