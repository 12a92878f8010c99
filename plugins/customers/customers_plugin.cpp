// customers plugin: creates customers (admin) and issues their bearer tokens.
#include "customers_domain.hpp"

#include "shopd/plugin_def.hpp"
#include "shopd/sdk.hpp"

namespace shopd::customers {
namespace {

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

const PluginDef kPlugin{"customers", "1.0.0", {{"POST", "/api/customers/", create_customer}}};

}  // namespace
}  // namespace shopd::customers

SHOPD_PLUGIN(customers, shopd::customers::kPlugin)
