// catalog plugin: domain functions (validation, slugs, ordering, JSON rendering) shared with its
// unit tests; nothing here touches the database.
#pragma once

#include "shopd/json.hpp"
#include "shopd/money.hpp"

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace shopd::catalog {

constexpr std::size_t kMaxNameChars = 200;  ///< categories.name, products.name, variants.name
constexpr std::size_t kMaxSkuChars = 64;    ///< variants.sku
constexpr std::size_t kMaxDescriptionChars = 100000;
constexpr std::int64_t kMaxStock = 1000000000;

/// Message of a duplicate SKU, as DRF's UniqueValidator words it.
constexpr const char *kDuplicateSku = "variant with this sku already exists.";

// ---------------------------------------------------------------------------------------------
// Slugs

/// Lower-case ASCII letters and digits of `name`; every run of anything else (including
/// non-ASCII bytes) becomes one '-', trimmed at both ends. "category" when nothing is left, so a
/// slug is never empty.
std::string slugify(std::string_view name);

/// `base` when it is free, else the first of base-2, base-3 ... not in `taken`.
std::string first_free_slug(const std::string &base, const std::set<std::string> &taken);

// ---------------------------------------------------------------------------------------------
// Text

/// Whether `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
/// Bodies are checked by the SDK's parser; query parameters (?search=) are not, and PostgreSQL
/// would refuse them.
bool valid_utf8(std::string_view s);

// ---------------------------------------------------------------------------------------------
// List queries

/// ?ordering= of GET /api/products/. The order of the enumerators is the index into the
/// plugin's table of prepared statements.
enum class ProductOrdering { ID, ID_DESC, NAME, NAME_DESC, BASE_PRICE, BASE_PRICE_DESC };
constexpr std::size_t kProductOrderingCount = 6;

/// Parses ?ordering=; absent or empty -> ID. Throws a 400 ClientError naming the choices.
ProductOrdering parse_ordering(const std::optional<std::string> &value);

/// Parses an id filter (?category=, ?parent=, ?product=); absent or empty -> nullopt (no filter,
/// as django-filter treats an empty value). Throws a 400 ClientError for anything else.
std::optional<std::int64_t> parse_id_filter(const char *name,
                                            const std::optional<std::string> &value);

/// Parses ?search=; absent or empty -> nullopt. Throws 400 for text PostgreSQL cannot take
/// (invalid UTF-8, NUL).
std::optional<std::string> parse_search(const std::optional<std::string> &value);

/// Parses a price filter (?min_price=, ?max_price=): money with at most two decimals, not
/// negative; absent or empty -> nullopt. Throws a 400 ClientError naming `name`.
std::optional<Cents> parse_price_filter(const char *name, const std::optional<std::string> &value);

/// Parses a boolean filter (?in_stock=): "true" or "false"; absent or empty -> nullopt. Throws a
/// 400 ClientError naming `name` for anything else.
std::optional<bool> parse_bool_filter(const char *name, const std::optional<std::string> &value);

/// `text` with LIKE's escape character and wildcards (\ % _) preceded by a backslash, so that
/// in a LIKE pattern it matches only itself.
std::string escape_like(std::string_view text);

/// The query of GET /api/products/, every parameter validated at once.
struct ProductQuery {
    std::optional<std::int64_t> category;
    /// ?search= through escape_like(); the SQL wraps it in % and lower-cases it, next to the
    /// lower(column) expressions that the trigram indexes are built on.
    std::optional<std::string> search_like;
    std::optional<Cents> min_price;  ///< base_price >= min_price
    std::optional<Cents> max_price;  ///< base_price <= max_price
    std::optional<bool> in_stock;    ///< whether some live variant has stock - reserved > 0
    ProductOrdering ordering = ProductOrdering::ID;
};

/// Parses ?category=, ?search=, ?ordering=, ?min_price=, ?max_price= and ?in_stock=. Throws one
/// 400 ClientError listing every bad parameter, and min_price > max_price.
ProductQuery parse_product_query(const Query &query);

// ---------------------------------------------------------------------------------------------
// Request bodies

struct NewCategory {
    std::string name;
    std::optional<std::int64_t> parent_id;
};

struct NewVariant {
    std::string sku;
    std::string name;
    Cents price_delta = 0;
    std::int64_t stock = 0;
};

struct NewProduct {
    std::string name;
    std::string description;
    std::int64_t category_id = 0;
    Cents base_price = 0;
    std::vector<NewVariant> variants;  ///< empty: the plugin creates the default variant
};

/// A POST /api/variants/ body: a variant plus the product it belongs to.
struct NewStandaloneVariant {
    std::int64_t product_id = 0;
    NewVariant variant;
};

/// Validates a POST /api/categories/ body; throws a 400 ClientError listing every bad field.
NewCategory parse_new_category(const rapidjson::Value &body);
/// Validates a POST /api/products/ body, nested variants included (errors as "variants[1].sku"),
/// SKUs repeated within the request, and base_price + price_delta >= 0.
NewProduct parse_new_product(const rapidjson::Value &body);
/// Validates a POST /api/variants/ body. base_price + price_delta is checked by the caller,
/// which knows the product's price (see check_variant_price).
NewStandaloneVariant parse_new_variant(const rapidjson::Value &body);
/// Validates a PUT /api/variants/{id}/inventory/ body: {"stock": 0..1000000000}.
std::int64_t parse_inventory(const rapidjson::Value &body);

// ---------------------------------------------------------------------------------------------
// Updates (PUT and PATCH)

/// PUT replaces every writable field, so each is required; PATCH changes the fields it names.
/// Other members of the body (id, slug, product_id, variants, ...) are ignored, as DRF ignores
/// read-only fields.
enum class UpdateMode { PUT, PATCH };

/// A category update: name, parent_id (slug stays as it was created).
struct CategoryChanges {
    std::optional<std::string> name;
    bool parent_given = false;              ///< the body names parent_id (null included)
    std::optional<std::int64_t> parent_id;  ///< nullopt with parent_given: becomes a root
};

struct ProductChanges {
    std::optional<std::string> name;
    std::optional<std::string> description;
    std::optional<std::int64_t> category_id;
    std::optional<Cents> base_price;
};

struct VariantChanges {
    std::optional<std::string> sku;
    std::optional<std::string> name;
    std::optional<Cents> price_delta;
    std::optional<std::int64_t> stock;
};

/// Validate PUT/PATCH bodies with the limits of the create bodies; throw one 400 ClientError
/// listing every bad field. PUT of a category needs parent_id present (null for a root).
CategoryChanges parse_category_changes(const rapidjson::Value &body, UpdateMode mode);
ProductChanges parse_product_changes(const rapidjson::Value &body, UpdateMode mode);
VariantChanges parse_variant_changes(const rapidjson::Value &body, UpdateMode mode);

/// Records an error on `field` when base_price + price_delta would be negative.
void check_variant_price(Cents base_price, Cents price_delta, const std::string &field,
                         FieldErrors &errors);

/// Throws the 400 listing `errors`, if there are any: for checks whose errors are gathered
/// across several readers (a product and its variants, a body and the database).
void throw_field_errors(FieldErrors errors);

// ---------------------------------------------------------------------------------------------
// Responses

struct Category {
    std::int64_t id = 0;
    std::string name;
    std::string slug;
    std::optional<std::int64_t> parent_id;
};

struct Variant {
    std::int64_t id = 0;
    std::int64_t product_id = 0;
    std::string sku;
    std::string name;
    Cents price_delta = 0;
    std::int64_t stock = 0;
    std::int64_t reserved = 0;
};

struct Product {
    std::int64_t id = 0;
    std::string name;
    std::string description;
    std::int64_t category_id = 0;
    Cents base_price = 0;
    std::vector<Variant> variants;
};

/// The object after the update: each field the changes name replaced.
void apply_changes(Category &c, const CategoryChanges &changes);
void apply_changes(Product &p, const ProductChanges &changes);
void apply_changes(Variant &v, const VariantChanges &changes);

/// Throws the 409 of a stock below the units reserved for checkouts (inventory PUT, variant
/// PUT/PATCH); the caller holds the variant's row lock, so `reserved` is current.
void check_stock_covers_reserved(std::int64_t stock, std::int64_t reserved);

void write_category(JsonWriter &w, const Category &c);
/// Includes "available" = stock - reserved.
void write_variant(JsonWriter &w, const Variant &v);
void write_product(JsonWriter &w, const Product &p);

}  // namespace shopd::catalog
