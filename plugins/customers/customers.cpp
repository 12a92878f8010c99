// customers plugin: creates customers (admin) and issues their bearer tokens.
#include "customers.hpp"

#include "shopd/sdk.hpp"

namespace shopd::customers {
namespace {

constexpr const char *kName = "customers";
constexpr const char *kVersion = "1.0.0";

// The token is shown once, in the 201 response; only its SHA-256 is stored.
const Statement kInsertCustomer{
    "customers.insert", "INSERT INTO customers (name, tier, token_hash) VALUES ($1, $2, $3) RETURNING id"};

enum Route { CREATE_CUSTOMER };

const shopd_route kRoutes[] = {
    {"POST", "/api/customers/", CREATE_CUSTOMER},
};

void create_customer(const Ctx &ctx) {
    ctx.require_admin();
    const auto input = parse_new_customer(ctx.json_body());
    const std::string token = random_token(32);
    pqxx::work tx(ctx.db());
    const auto id = exec(tx, kInsertCustomer, input.name, input.tier, sha256_hex(token))[0][0].as<std::int64_t>();
    tx.commit();
    ctx.reply(201, render_json([&](JsonWriter &w) {
                  w.StartObject();
                  put_key(w, "id");
                  w.Int64(id);
                  put_key(w, "name");
                  put_string(w, input.name);
                  put_key(w, "tier");
                  put_string(w, input.tier);
                  put_key(w, "token");
                  put_string(w, token);
                  w.EndObject();
              }));
}

void handle(void *, int route, const shopd_request *req, shopd_response *resp) {
    const Ctx ctx(kName, req, resp);
    run_guarded(ctx, [&] {
        switch (route) {
        case CREATE_CUSTOMER: return create_customer(ctx);
        }
        throw not_found();
    });
}

}  // namespace

NewCustomer parse_new_customer(const rapidjson::Value &body) {
    Fields f(body);
    NewCustomer c;
    if (auto name = f.text("name", true, 200)) c.name = *name;
    if (auto tier = f.choice("tier", false, {"STANDARD", "SILVER", "GOLD", "PLATINUM"})) c.tier = *tier;
    f.check();
    return c;
}

}  // namespace shopd::customers

extern "C" SHOPD_EXPORT const shopd_plugin *customers_shopd_plugin(void) {
    using namespace shopd::customers;
    static const shopd_plugin descriptor = {
        sizeof(shopd_plugin), SHOPD_PLUGIN_ABI_VERSION, SHOPD_BUILD_SIGNATURE, kName, kVersion,
        kRoutes, sizeof kRoutes / sizeof kRoutes[0],
        nullptr, 0,
        shopd::stateless_init, handle, nullptr, shopd::stateless_shutdown, {}};
    return &descriptor;
}
