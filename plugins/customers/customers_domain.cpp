// customers plugin: validation of a new customer and rendering of the one answer that shows its
// token. Nothing here touches the database.
#include "customers_domain.hpp"

namespace shopd::customers {
namespace {

constexpr std::size_t kMaxNameChars = 200;  ///< customers.name

}  // namespace

NewCustomer parse_new_customer(const rapidjson::Value &body) {
    Fields f(body);
    NewCustomer c;
    if (auto name = f.text("name", true, kMaxNameChars)) c.name = *name;
    if (auto tier = tier_field(f, "tier", false)) c.tier = *tier;
    f.check();
    return c;
}

std::string render_created_customer(std::int64_t id, const NewCustomer &customer,
                                    const std::string &token) {
    return render_json([&](JsonWriter &w) {
        w.StartObject();
        put_key(w, "id");
        w.Int64(id);
        put_key(w, "name");
        put_string(w, customer.name);
        put_key(w, "tier");
        put_string(w, customer.tier);
        put_key(w, "token");
        put_string(w, token);
        w.EndObject();
    });
}

}  // namespace shopd::customers
