// catalog plugin: pure domain functions: slugs, query-parameter and body validation, rendering.
#include "catalog_domain.hpp"

namespace shopd::catalog {
namespace {

constexpr const char *kOrderingNames[kProductOrderingCount] = {
    "id", "-id", "name", "-name", "base_price", "-base_price"};
constexpr std::size_t kMaxVariantsPerProduct = 1000;

bool is_ascii_alnum(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

ClientError query_error(const char *param, std::string message) {
    return validation_failed({{param, {std::move(message)}}});
}

// One "key": value member each, so a writer reads as the list of its fields.
void put_member(JsonWriter &w, std::string_view key, std::int64_t n) {
    put_key(w, key);
    w.Int64(n);
}
void put_member(JsonWriter &w, std::string_view key, std::string_view text) {
    put_key(w, key);
    put_string(w, text);
}
void put_member(JsonWriter &w, std::string_view key, const std::optional<std::int64_t> &n) {
    put_key(w, key);
    if (n)
        w.Int64(*n);
    else
        w.Null();
}
// Cents is an int64 too: money needs its own name to leave as a two-decimal string.
void put_money_member(JsonWriter &w, std::string_view key, Cents cents) {
    put_key(w, key);
    put_money(w, cents);
}

/// Reads one variant object; its errors are keyed with `prefix` ("variants[0]." or "").
std::optional<NewVariant> read_variant(const rapidjson::Value &object, const std::string &prefix,
                                       FieldErrors &errors) {
    Fields f(object, prefix);
    NewVariant v;
    const auto sku = f.text("sku", true, kMaxSkuChars);
    const auto name = f.text("name", true, kMaxNameChars);
    // Both have column defaults, so (as in a DRF ModelSerializer) they may be left out.
    const auto delta = f.money("price_delta", false, true);
    const auto stock = f.integer("stock", false, 0, kMaxStock);
    merge_errors(errors, f.errors());
    if (!f.ok()) return std::nullopt;
    v.sku = *sku;
    v.name = *name;
    v.price_delta = delta.value_or(0);
    v.stock = stock.value_or(0);
    return v;
}

/// Validates the "variants" list of a product body into `product.variants`.
void read_variants(const rapidjson::Value &list, std::optional<Cents> base_price,
                   NewProduct &product, FieldErrors &errors) {
    if (list.Size() > kMaxVariantsPerProduct) {
        errors["variants"].push_back("Ensure this list has no more than " +
                                     std::to_string(kMaxVariantsPerProduct) + " items.");
        return;
    }
    std::set<std::string> skus;
    for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
        const std::string item = "variants[" + std::to_string(i) + "]";
        if (!list[i].IsObject()) {
            errors[item].push_back("Invalid data. Expected an object.");
            continue;
        }
        auto v = read_variant(list[i], item + ".", errors);
        if (!v) continue;
        // The DB's unique index would catch it too, but only after writing the earlier ones.
        if (!skus.insert(v->sku).second)
            errors[item + ".sku"].push_back("This sku appears twice in the request.");
        if (base_price)
            check_variant_price(*base_price, v->price_delta, item + ".price_delta", errors);
        product.variants.push_back(std::move(*v));
    }
}

/// Fields reads a null that is not required as absent, which suits PATCH's optional fields
/// but would let {"name": null} pass as "no change"; these columns are NOT NULL, so null is an
/// error, as in DRF. (PUT's required fields report null themselves.)
void refuse_nulls(const rapidjson::Value &body, UpdateMode mode, Fields &f,
                  std::initializer_list<const char *> keys) {
    if (mode != UpdateMode::PATCH) return;
    for (const char *key : keys) {
        const auto it = body.FindMember(key);
        if (it != body.MemberEnd() && it->value.IsNull())
            f.error(key, "This field may not be null.");
    }
}

}  // namespace

std::string slugify(std::string_view name) {
    std::string out;
    bool gap = false;
    for (const char ch : name) {
        const auto c = static_cast<unsigned char>(ch);
        if (!is_ascii_alnum(c)) {
            gap = true;
            continue;
        }
        // A gap becomes a dash only between two kept characters: that trims both ends.
        if (gap && !out.empty()) out += '-';
        gap = false;
        out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    return out.empty() ? "category" : out;
}

std::string first_free_slug(const std::string &base, const std::set<std::string> &taken) {
    if (!taken.count(base)) return base;
    for (std::size_t n = 2;; ++n) {
        std::string candidate = base + "-" + std::to_string(n);
        if (!taken.count(candidate)) return candidate;
    }
}

bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto lead = static_cast<unsigned char>(s[i]);
        if (lead < 0x80) {
            ++i;
            continue;
        }
        // C0, C1 and F5..FF only ever start overlong or out-of-range sequences; 80..BF are
        // continuation bytes and cannot lead.
        std::size_t extra = 0;
        std::uint32_t cp = 0;
        if (lead >= 0xC2 && lead <= 0xDF) {
            extra = 1;
            cp = lead & 0x1F;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            extra = 2;
            cp = lead & 0x0F;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            extra = 3;
            cp = lead & 0x07;
        } else {
            return false;
        }
        if (extra >= s.size() - i) return false;  // truncated sequence
        for (std::size_t k = 1; k <= extra; ++k) {
            const auto next = static_cast<unsigned char>(s[i + k]);
            if ((next & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (next & 0x3F);
        }
        const std::uint32_t shortest = extra == 1 ? 0x80 : extra == 2 ? 0x800 : 0x10000;
        if (cp < shortest || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += extra + 1;
    }
    return true;
}

ProductOrdering parse_ordering(const std::optional<std::string> &value) {
    if (!value || value->empty()) return ProductOrdering::ID;
    for (std::size_t i = 0; i < kProductOrderingCount; ++i)
        if (*value == kOrderingNames[i]) return static_cast<ProductOrdering>(i);
    std::string choices;
    for (const char *name : kOrderingNames) choices += std::string(" ") + name;
    throw query_error("ordering", "Not a valid choice; expected one of:" + choices + ".");
}

std::optional<std::int64_t> parse_id_filter(const char *name,
                                            const std::optional<std::string> &value) {
    if (!value || value->empty()) return std::nullopt;
    const auto id = parse_id(*value);
    if (!id) throw query_error(name, "A valid positive integer id is required.");
    return id;
}

std::optional<std::string> parse_search(const std::optional<std::string> &value) {
    if (!value || value->empty()) return std::nullopt;
    if (!valid_utf8(*value) || value->find('\0') != std::string::npos)
        throw query_error("search", "Not valid UTF-8 text.");
    return value;
}

std::optional<Cents> parse_price_filter(const char *name, const std::optional<std::string> &value) {
    if (!value || value->empty()) return std::nullopt;
    const auto cents = parse_money(*value);
    if (!cents)
        throw query_error(
            name,
            "A valid decimal with at most 10 digits before and 2 after the point is required.");
    if (*cents < 0) throw query_error(name, "Ensure this value is greater than or equal to 0.");
    return cents;
}

std::optional<bool> parse_bool_filter(const char *name, const std::optional<std::string> &value) {
    if (!value || value->empty()) return std::nullopt;
    if (*value == "true") return true;
    if (*value == "false") return false;
    throw query_error(name, "Not a valid choice; expected one of: true false.");
}

std::string escape_like(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        if (c == '\\' || c == '%' || c == '_') out += '\\';
        out += c;
    }
    return out;
}

ProductQuery parse_product_query(const Query &query) {
    ProductQuery out;
    FieldErrors errors;
    // Each parser throws for its own parameter; gathered, so one answer names every bad one.
    const auto gather = [&errors](auto parse) {
        try {
            parse();
        } catch (const ClientError &e) {
            merge_errors(errors, e.errors);
        }
    };
    gather([&] { out.category = parse_id_filter("category", query.get("category")); });
    gather([&] {
        if (const auto search = parse_search(query.get("search")))
            out.search_like = escape_like(*search);
    });
    gather([&] { out.ordering = parse_ordering(query.get("ordering")); });
    gather([&] { out.min_price = parse_price_filter("min_price", query.get("min_price")); });
    gather([&] { out.max_price = parse_price_filter("max_price", query.get("max_price")); });
    gather([&] { out.in_stock = parse_bool_filter("in_stock", query.get("in_stock")); });
    if (out.min_price && out.max_price && *out.min_price > *out.max_price)
        errors["min_price"].push_back("Ensure this value is less than or equal to max_price.");
    throw_field_errors(std::move(errors));
    return out;
}

NewCategory parse_new_category(const rapidjson::Value &body) {
    Fields f(body);
    NewCategory c;
    if (auto name = f.text("name", true, kMaxNameChars)) c.name = *name;
    c.parent_id = f.id("parent_id", false);
    f.check();
    return c;
}

NewProduct parse_new_product(const rapidjson::Value &body) {
    Fields f(body);
    NewProduct p;
    if (auto name = f.text("name", true, kMaxNameChars)) p.name = *name;
    if (auto description = f.text("description", false, kMaxDescriptionChars, true))
        p.description = *description;
    if (auto category = f.id("category_id", true)) p.category_id = *category;
    const auto base_price = f.money("base_price", true, false);
    if (base_price) p.base_price = *base_price;
    const rapidjson::Value *variants = f.array("variants", false);
    FieldErrors errors = f.errors();
    if (variants) read_variants(*variants, base_price, p, errors);
    throw_field_errors(std::move(errors));
    return p;
}

NewStandaloneVariant parse_new_variant(const rapidjson::Value &body) {
    Fields f(body);
    NewStandaloneVariant out;
    const auto product = f.id("product_id", true);
    FieldErrors errors = f.errors();
    auto v = read_variant(body, "", errors);
    throw_field_errors(std::move(errors));
    out.product_id = *product;
    out.variant = std::move(*v);
    return out;
}

std::int64_t parse_inventory(const rapidjson::Value &body) {
    Fields f(body);
    const auto stock = f.integer("stock", true, 0, kMaxStock);
    f.check();
    return *stock;
}

CategoryChanges parse_category_changes(const rapidjson::Value &body, UpdateMode mode) {
    const bool put = mode == UpdateMode::PUT;
    Fields f(body);
    CategoryChanges c;
    refuse_nulls(body, mode, f, {"name"});
    c.name = f.text("name", put, kMaxNameChars);
    // null is a value here (make it a root), not an absent field: Fields::id reads null as
    // absent, so presence is looked up first.
    const auto parent = body.FindMember("parent_id");
    if (parent == body.MemberEnd()) {
        if (put) f.error("parent_id", "This field is required.");
    } else {
        c.parent_given = true;
        if (!parent->value.IsNull()) c.parent_id = f.id("parent_id", true);
    }
    f.check();
    return c;
}

ProductChanges parse_product_changes(const rapidjson::Value &body, UpdateMode mode) {
    const bool put = mode == UpdateMode::PUT;
    Fields f(body);
    ProductChanges p;
    refuse_nulls(body, mode, f, {"name", "description", "category_id", "base_price"});
    p.name = f.text("name", put, kMaxNameChars);
    p.description = f.text("description", put, kMaxDescriptionChars, true);
    p.category_id = f.id("category_id", put);
    p.base_price = f.money("base_price", put, false);
    f.check();
    return p;
}

VariantChanges parse_variant_changes(const rapidjson::Value &body, UpdateMode mode) {
    const bool put = mode == UpdateMode::PUT;
    Fields f(body);
    VariantChanges v;
    refuse_nulls(body, mode, f, {"sku", "name", "price_delta", "stock"});
    v.sku = f.text("sku", put, kMaxSkuChars);
    v.name = f.text("name", put, kMaxNameChars);
    v.price_delta = f.money("price_delta", put, true);
    v.stock = f.integer("stock", put, 0, kMaxStock);
    f.check();
    return v;
}

void apply_changes(Category &c, const CategoryChanges &changes) {
    if (changes.name) c.name = *changes.name;
    if (changes.parent_given) c.parent_id = changes.parent_id;
}

void apply_changes(Product &p, const ProductChanges &changes) {
    if (changes.name) p.name = *changes.name;
    if (changes.description) p.description = *changes.description;
    if (changes.category_id) p.category_id = *changes.category_id;
    if (changes.base_price) p.base_price = *changes.base_price;
}

void apply_changes(Variant &v, const VariantChanges &changes) {
    if (changes.sku) v.sku = *changes.sku;
    if (changes.name) v.name = *changes.name;
    if (changes.price_delta) v.price_delta = *changes.price_delta;
    if (changes.stock) v.stock = *changes.stock;
}

void check_stock_covers_reserved(std::int64_t stock, std::int64_t reserved) {
    if (stock < reserved)
        throw conflict("stock " + std::to_string(stock) + " is below the " +
                       std::to_string(reserved) + " units currently reserved.");
}

void check_variant_price(Cents base_price, Cents price_delta, const std::string &field,
                         FieldErrors &errors) {
    if (base_price + price_delta < 0)
        errors[field].push_back("base_price + price_delta must not be negative.");
}

void throw_field_errors(FieldErrors errors) {
    if (!errors.empty()) throw validation_failed(std::move(errors));
}

void write_category(JsonWriter &w, const Category &c) {
    w.StartObject();
    put_member(w, "id", c.id);
    put_member(w, "name", c.name);
    put_member(w, "slug", c.slug);
    put_member(w, "parent_id", c.parent_id);
    w.EndObject();
}

void write_variant(JsonWriter &w, const Variant &v) {
    w.StartObject();
    put_member(w, "id", v.id);
    put_member(w, "product_id", v.product_id);
    put_member(w, "sku", v.sku);
    put_member(w, "name", v.name);
    put_money_member(w, "price_delta", v.price_delta);
    put_member(w, "stock", v.stock);
    put_member(w, "reserved", v.reserved);
    put_member(w, "available", v.stock - v.reserved);
    w.EndObject();
}

void write_product(JsonWriter &w, const Product &p) {
    w.StartObject();
    put_member(w, "id", p.id);
    put_member(w, "name", p.name);
    put_member(w, "description", p.description);
    put_member(w, "category_id", p.category_id);
    put_money_member(w, "base_price", p.base_price);
    put_key(w, "variants");
    w.StartArray();
    for (const auto &v : p.variants) write_variant(w, v);
    w.EndArray();
    w.EndObject();
}

}  // namespace shopd::catalog
