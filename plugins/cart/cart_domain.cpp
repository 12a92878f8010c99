// cart plugin: validation, totals, JSON rendering and the answer to a failed price (no database).
#include "cart_domain.hpp"

#include "shopd/commerce.hpp"

namespace shopd::cart {

AddItem parse_add_item(const rapidjson::Value &body) {
    Fields f(body);
    AddItem item;
    item.variant_id = f.id("variant_id", false);
    item.product_id = f.id("product_id", false);
    if (auto q = f.integer("quantity", true, kMinQuantity, kMaxQuantity)) item.quantity = *q;
    if (f.ok() && !item.variant_id && !item.product_id)
        f.error("variant_id", "Give variant_id, or product_id for a product with one variant.");
    if (item.variant_id && item.product_id)
        f.error("product_id", "Give either variant_id or product_id, not both.");
    f.check();
    return item;
}

std::int64_t parse_quantity_update(const rapidjson::Value &body) {
    Fields f(body);
    const auto q = f.integer("quantity", true, kMinQuantity, kMaxQuantity);
    f.check();
    return *q;
}

void write_line(JsonWriter &w, const Line &line) {
    w.StartObject();
    put_key(w, "id");
    w.Int64(line.id);
    put_key(w, "variant_id");
    w.Int64(line.variant_id);
    put_key(w, "product_id");
    w.Int64(line.product_id);
    put_key(w, "quantity");
    w.Int64(line.quantity);
    put_key(w, "unit_price");
    put_money(w, line.unit_price);
    put_key(w, "line_total");
    put_money(w, line.line_total());
    w.EndObject();
}

std::string render_cart(std::int64_t cart_id, const std::vector<Line> &lines) {
    std::int64_t units = 0;
    Cents total = 0;
    for (const auto &l : lines) {
        units += l.quantity;
        total += l.line_total();
    }
    return render_json([&](JsonWriter &w) {
        w.StartObject();
        put_key(w, "id");
        w.Int64(cart_id);
        put_key(w, "items");
        w.StartArray();
        for (const auto &l : lines) write_line(w, l);
        w.EndArray();
        put_key(w, "item_count");
        w.Int64(units);
        put_key(w, "total");
        put_money(w, total);
        w.EndObject();
    });
}

std::optional<Cents> unit_price_from_reply(const std::string &body) {
    rapidjson::Document d;
    d.Parse(body.c_str());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("unit_price") ||
        !d["unit_price"].IsString())
        return std::nullopt;
    return parse_money(d["unit_price"].GetString());
}

int unpriced_status(int service_status) {
    if (service_status == 409) return 409;
    return service_status >= 500 ? 503 : 400;
}

}  // namespace shopd::cart
