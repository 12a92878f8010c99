// pricing plugin: input and output of the "price" service (format documented in the header).
#include "pricing_service.hpp"

namespace shopd::pricing {

ServiceInput parse_service_input(std::string_view body) {
    const auto doc = parse_json_object(body);
    Fields f(doc);
    ServiceInput in;
    in.variant_id = f.id("variant_id", true).value_or(0);
    if (auto n = f.integer("quantity", false, kMinQuantity, kMaxQuantity)) in.quantity = *n;
    if (auto tier = tier_field(f, "tier", false)) in.tier = *tier;
    f.check();
    return in;
}

std::string service_price_json(const Quote &quote, std::string_view engine) {
    return render_json([&](JsonWriter &w) {
        w.StartObject();
        put_key(w, "product_id");
        w.Int64(quote.product_id);
        put_key(w, "variant_id");
        w.Int64(quote.variant_id.value_or(0));
        put_key(w, "quantity");
        w.Int64(quote.input.quantity);
        put_key(w, "tier");
        put_string(w, quote.input.tier);
        put_key(w, "unit_price");
        put_money(w, quote.price.unit_price);
        put_key(w, "total");
        put_money(w, quote.price.total);
        put_key(w, "engine");
        put_string(w, engine);
        w.EndObject();
    });
}

}  // namespace shopd::pricing
