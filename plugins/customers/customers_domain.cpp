// customers plugin: validation of customers and their updates, and rendering of customers and
// tokens. Nothing here touches the database.
#include "customers_domain.hpp"

namespace shopd::customers {
namespace {

constexpr std::size_t kMaxNameChars = 200;  ///< customers.name

void put_customer_fields(JsonWriter &w, std::int64_t id, const std::string &name,
                         const std::string &tier) {
    put_key(w, "id");
    w.Int64(id);
    put_key(w, "name");
    put_string(w, name);
    put_key(w, "tier");
    put_string(w, tier);
}

/// Fields treats a null optional field as absent; a PATCH must not silently ignore an attempt to
/// clear a NOT NULL column, so null is an error here, worded as DRF words it.
void refuse_null(Fields &f, const rapidjson::Value &body, const char *key) {
    const auto it = body.FindMember(key);
    if (it != body.MemberEnd() && it->value.IsNull()) f.error(key, "This field may not be null.");
}

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
        put_customer_fields(w, id, customer.name, customer.tier);
        put_key(w, "token");
        put_string(w, token);
        w.EndObject();
    });
}

CustomerPatch parse_customer_patch(const rapidjson::Value &body) {
    Fields f(body);
    CustomerPatch patch;
    patch.name = f.text("name", false, kMaxNameChars);
    patch.tier = tier_field(f, "tier", false);
    refuse_null(f, body, "name");
    refuse_null(f, body, "tier");
    f.check();
    return patch;
}

void write_customer(JsonWriter &w, const CustomerView &customer) {
    w.StartObject();
    put_customer_fields(w, customer.id, customer.name, customer.tier);
    w.EndObject();
}

std::string render_customer(const CustomerView &customer) {
    return render_json([&](JsonWriter &w) { write_customer(w, customer); });
}

std::string render_token(const std::string &token) {
    return render_json([&](JsonWriter &w) {
        w.StartObject();
        put_key(w, "token");
        put_string(w, token);
        w.EndObject();
    });
}

}  // namespace shopd::customers
