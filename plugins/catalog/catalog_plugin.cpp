// catalog plugin: categories, products and variants (public reads, admin writes) and the
// inventory count of a variant. Each section names its statements next to the handlers that
// run them; validation and rendering live in catalog_domain.cpp.
#include "catalog_domain.hpp"

#include "shopd/plugin_def.hpp"
#include "shopd/sdk.hpp"

#include <array>

namespace shopd::catalog {
namespace {

// Optional filters of the statements are NULL-able parameters. List pages carry the total row
// count as their last column, an uncorrelated subquery (computed once), so count and rows come
// from one snapshot in one round trip while the page itself can still stop after LIMIT rows.

#define CATALOG_CATEGORY_COLUMNS "c.id, c.name, c.slug, c.parent_id"
#define CATALOG_VARIANT_COLUMNS \
    "v.id, v.product_id, v.sku, v.name, v.price_delta, v.stock, v.reserved"

// ---------------------------------------------------------------------------------------------
// Rows -> domain values

/// A row of CATALOG_CATEGORY_COLUMNS.
Category category_of(const pqxx::row &r) {
    Category c;
    c.id = r[0].as<std::int64_t>();
    c.name = r[1].c_str();
    c.slug = r[2].c_str();
    if (!r[3].is_null()) c.parent_id = r[3].as<std::int64_t>();
    return c;
}

/// The variant in columns first .. first+6 (CATALOG_VARIANT_COLUMNS).
Variant variant_at(const pqxx::row &r, pqxx::row::size_type first) {
    Variant v;
    v.id = r[first].as<std::int64_t>();
    v.product_id = r[first + 1].as<std::int64_t>();
    v.sku = r[first + 2].c_str();
    v.name = r[first + 3].c_str();
    v.price_delta = money_column(r[first + 4]);
    v.stock = r[first + 5].as<std::int64_t>();
    v.reserved = r[first + 6].as<std::int64_t>();
    return v;
}

/// A row that starts with CATALOG_VARIANT_COLUMNS.
Variant variant_of(const pqxx::row &r) { return variant_at(r, 0); }

/// The count(*) column that ends every row of a list page; 0 for no rows (then only page 1
/// exists).
std::int64_t total_of(const pqxx::result &rows) {
    return rows.empty() ? 0 : rows[0][rows.columns() - 1].as<std::int64_t>();
}

template <class Value>
std::string render_one(const Value &value, void (*write)(JsonWriter &, const Value &)) {
    return render_json([&](JsonWriter &w) { write(w, value); });
}

ClientError unknown_id(const char *field, std::int64_t id) {
    return validation_failed(
        {{field, {"Invalid pk \"" + std::to_string(id) + "\" - object does not exist."}}});
}

// ---------------------------------------------------------------------------------------------
// Reads shared by categories and variants

/// Every catalog read is one statement (lists carry their count in it), and one statement is
/// atomic on its own: a BEGIN/COMMIT pair around it would triple the round trips of a read.
using ReadTx = pqxx::nontransaction;

/// SQL of one page of TABLE's COLUMNS, ordered by ID, narrowed to the rows whose FILTER column
/// is $1 unless $1 is NULL; $2 limit, $3 offset; the total count ends each row.
#define CATALOG_FILTERED_PAGE(COLUMNS, TABLE, FILTER, ID)                   \
    "SELECT " COLUMNS                                                       \
    ","                                                                     \
    " (SELECT count(*) FROM " TABLE " WHERE ($1::bigint IS NULL OR " FILTER \
    " = $1))"                                                               \
    " FROM " TABLE " WHERE ($1::bigint IS NULL OR " FILTER                  \
    " = $1)"                                                                \
    " ORDER BY " ID " LIMIT $2 OFFSET $3"

/// GET of a list narrowed by one optional id filter (?parent=, ?product=): `page_statement`
/// (a CATALOG_FILTERED_PAGE) returns one item a row.
template <class Item>
void reply_filtered_list(const Ctx &ctx, const char *filter, const Statement &page_statement,
                         Item (*read)(const pqxx::row &),
                         void (*write)(JsonWriter &, const Item &)) {
    const auto query = ctx.query();
    const auto filter_id = parse_id_filter(filter, query.get(filter));
    const auto page = parse_page_request(query);
    ReadTx tx(ctx.db());
    const auto rows = exec(tx, page_statement, filter_id, page.page_size, page.offset());
    tx.commit();
    std::vector<Item> items;
    for (const auto &r : rows) items.push_back(read(r));
    reply_page(ctx, page, total_of(rows), items, write);
}

/// GET of the one row `by_id` finds for the route's {id}; 404 when there is none.
template <class Item>
void reply_by_id(const Ctx &ctx, const Statement &by_id, Item (*read)(const pqxx::row &),
                 void (*write)(JsonWriter &, const Item &)) {
    const auto id = ctx.id_param(0);
    ReadTx tx(ctx.db());
    const auto rows = exec(tx, by_id, id);
    tx.commit();
    if (rows.empty()) throw not_found();
    ctx.reply(200, render_one(read(rows[0]), write));
}

// ---------------------------------------------------------------------------------------------
// Categories

const Statement kCategoryById{"catalog.category_by_id", "SELECT " CATALOG_CATEGORY_COLUMNS
                                                        " FROM categories c WHERE c.id = $1"};

const Statement kCategoryPage{
    "catalog.category_page",
    CATALOG_FILTERED_PAGE(CATALOG_CATEGORY_COLUMNS, "categories c", "c.parent_id", "c.id")};

// Every slug the new one could collide with: the base itself and base-<anything>.
const Statement kTakenSlugs{
    "catalog.taken_slugs",
    "SELECT slug FROM categories WHERE slug = $1 OR starts_with(slug, $1 || '-')"};

// DO NOTHING instead of a unique-violation error: a slug taken concurrently just returns no row
// and the transaction stays usable for the next candidate (no savepoint needed).
const Statement kInsertCategory{"catalog.insert_category",
                                "INSERT INTO categories (name, slug, parent_id) VALUES ($1, $2, $3)"
                                " ON CONFLICT (slug) DO NOTHING RETURNING id"};

void list_categories(const Ctx &ctx) {
    reply_filtered_list(ctx, "parent", kCategoryPage, category_of, write_category);
}

void get_category(const Ctx &ctx) { reply_by_id(ctx, kCategoryById, category_of, write_category); }

/// Inserts the category under the first free slug. A concurrent request may take that slug
/// between our read and our insert; then the insert returns nothing and we look again. Each
/// lost round means another request got its slug, so the rounds are bounded by the number of
/// concurrent writers (the host's workers); kSlugAttempts is far above that.
std::int64_t insert_category(pqxx::work &tx, const NewCategory &input, std::string &slug) {
    constexpr int kSlugAttempts = 64;
    const std::string base = slugify(input.name);
    for (int attempt = 0; attempt < kSlugAttempts; ++attempt) {
        std::set<std::string> taken;
        for (const auto &r : exec(tx, kTakenSlugs, base)) taken.insert(r[0].c_str());
        slug = first_free_slug(base, taken);
        pqxx::result rows;
        try {
            rows = exec(tx, kInsertCategory, input.name, slug, input.parent_id);
        } catch (const pqxx::foreign_key_violation &) {
            // The parent was checked by the database itself: no window for a race.
            throw unknown_id("parent_id", *input.parent_id);
        }
        if (!rows.empty()) return rows[0][0].as<std::int64_t>();
    }
    throw conflict("Could not find a free slug for this name; retry.")
        .with_header("Retry-After", "1");
}

void create_category(const Ctx &ctx) {
    ctx.require_admin();
    const auto input = parse_new_category(ctx.json_body());
    pqxx::work tx(ctx.db());
    Category c;
    c.id = insert_category(tx, input, c.slug);
    c.name = input.name;
    c.parent_id = input.parent_id;
    tx.commit();
    ctx.reply(201, render_one(c, write_category));
}

// ---------------------------------------------------------------------------------------------
// Products

// A product row joined with each of its variants (columns 0-4 product, 5-11 variant).
const Statement kProductById{
    "catalog.product_by_id",
    "SELECT p.id, p.name, p.description, p.category_id, p.base_price, " CATALOG_VARIANT_COLUMNS
    " FROM products p LEFT JOIN variants v ON v.product_id = p.id"
    " WHERE p.id = $1 ORDER BY v.id"};

// Products matching ?category= ($1: itself and all descendants) and ?search= ($2).
#define CATALOG_PRODUCT_FILTER                                              \
    " WHERE ($1::bigint IS NULL OR p.category_id IN (SELECT id FROM tree))" \
    " AND ($2::text IS NULL OR strpos(lower(p.name), lower($2)) > 0)"

// One page of products with all their variants: kProductById's columns, then the total count.
// ORDER is a fixed SQL fragment over alias p, one prepared statement per ordering, so each gets
// its own plan: an index scan that stops after offset + limit rows (pkey, and the (name, id) and
// (base_price, id) indexes of sql/003). id breaks ties so pages never overlap. The count is an
// uncorrelated subquery: computed once, from the same snapshot as the page. UNION (not UNION
// ALL) in the tree also stops at a parent cycle.
#define CATALOG_PRODUCT_PAGE(ORDER)                                                                          \
    "WITH RECURSIVE tree (id) AS ("                                                                          \
    "SELECT id FROM categories WHERE id = $1"                                                                \
    " UNION SELECT c.id FROM categories c JOIN tree t ON c.parent_id = t.id"                                 \
    "), page AS ("                                                                                           \
    "SELECT p.id, p.name, p.description, p.category_id, p.base_price FROM products p" CATALOG_PRODUCT_FILTER \
    " ORDER BY " ORDER                                                                                       \
    " LIMIT $3 OFFSET $4"                                                                                    \
    ") SELECT p.id, p.name, p.description, p.category_id, p.base_price, " CATALOG_VARIANT_COLUMNS            \
    ", "                                                                                                     \
    "(SELECT count(*) FROM products p" CATALOG_PRODUCT_FILTER                                                \
    ")"                                                                                                      \
    " FROM page p LEFT JOIN variants v ON v.product_id = p.id ORDER BY " ORDER ", v.id"

// Indexed by ProductOrdering.
const std::array<Statement, kProductOrderingCount> kProductPages{{
    {"catalog.product_page_id", CATALOG_PRODUCT_PAGE("p.id")},
    {"catalog.product_page_id_desc", CATALOG_PRODUCT_PAGE("p.id DESC")},
    {"catalog.product_page_name", CATALOG_PRODUCT_PAGE("p.name, p.id")},
    {"catalog.product_page_name_desc", CATALOG_PRODUCT_PAGE("p.name DESC, p.id DESC")},
    {"catalog.product_page_base_price", CATALOG_PRODUCT_PAGE("p.base_price, p.id")},
    {"catalog.product_page_base_price_desc", CATALOG_PRODUCT_PAGE("p.base_price DESC, p.id DESC")},
}};

const Statement kInsertProduct{"catalog.insert_product",
                               "INSERT INTO products (name, description, category_id, base_price)"
                               " VALUES ($1, $2, $3, $4::numeric) RETURNING id"};

// A duplicate SKU (even one committed by a concurrent request) returns no row rather than
// failing the transaction, so every duplicate of a request can be reported at once.
const Statement kInsertVariant{
    "catalog.insert_variant",
    "INSERT INTO variants AS v (product_id, sku, name, price_delta, stock)"
    " VALUES ($1, $2, $3, $4::numeric, $5)"
    " ON CONFLICT (sku) DO NOTHING RETURNING " CATALOG_VARIANT_COLUMNS};

/// Folds product x variant rows (kProductById's columns, products in order) into products.
std::vector<Product> products_of(const pqxx::result &rows) {
    std::vector<Product> out;
    for (const auto &r : rows) {
        const auto id = r[0].as<std::int64_t>();
        if (out.empty() || out.back().id != id) {
            Product p;
            p.id = id;
            p.name = r[1].c_str();
            p.description = r[2].c_str();
            p.category_id = r[3].as<std::int64_t>();
            p.base_price = money_column(r[4]);
            out.push_back(std::move(p));
        }
        if (!r[5].is_null()) out.back().variants.push_back(variant_at(r, 5));  // LEFT JOIN: none
    }
    return out;
}

/// Inserts `v` into product `product_id` (for POST /api/products/ and POST /api/variants/);
/// no row when its SKU is taken.
pqxx::result insert_variant(pqxx::work &tx, std::int64_t product_id, const NewVariant &v) {
    return exec(tx, kInsertVariant, product_id, v.sku, v.name, format_money(v.price_delta),
                v.stock);
}

void list_products(const Ctx &ctx) {
    const auto query = ctx.query();
    const auto category = parse_id_filter("category", query.get("category"));
    const auto search = parse_search(query.get("search"));
    const auto ordering = parse_ordering(query.get("ordering"));
    const auto page = parse_page_request(query);
    ReadTx tx(ctx.db());
    const auto &statement = kProductPages[static_cast<std::size_t>(ordering)];
    const auto rows = exec(tx, statement, category, search, page.page_size, page.offset());
    tx.commit();
    reply_page(ctx, page, total_of(rows), products_of(rows), write_product);
}

void get_product(const Ctx &ctx) {
    const auto id = ctx.id_param(0);
    ReadTx tx(ctx.db());
    const auto products = products_of(exec(tx, kProductById, id));
    tx.commit();
    if (products.empty()) throw not_found();
    ctx.reply(200, render_one(products[0], write_product));
}

/// The variant a product gets when created without any: "P<id>-DEFAULT", or with a suffix if
/// someone already used that SKU by hand.
void insert_default_variant(pqxx::work &tx, std::int64_t product_id) {
    NewVariant v;
    v.name = "Default";
    const std::string base = "P" + std::to_string(product_id) + "-DEFAULT";
    for (int n = 1; n <= 5; ++n) {
        v.sku = n == 1 ? base : base + "-" + std::to_string(n);
        if (!insert_variant(tx, product_id, v).empty()) return;
    }
    throw conflict("Could not derive a free SKU for the default variant; retry.");
}

/// Inserts the requested variants; every SKU already taken is reported (keyed by its index).
void insert_variants(pqxx::work &tx, std::int64_t product_id,
                     const std::vector<NewVariant> &variants) {
    FieldErrors errors;
    for (std::size_t i = 0; i < variants.size(); ++i)
        if (insert_variant(tx, product_id, variants[i]).empty())
            errors["variants[" + std::to_string(i) + "].sku"].push_back(kDuplicateSku);
    // Thrown before commit: the product and the variants already inserted are rolled back.
    throw_field_errors(std::move(errors));
}

void create_product(const Ctx &ctx) {
    ctx.require_admin();
    const auto input = parse_new_product(ctx.json_body());
    pqxx::work tx(ctx.db());
    std::int64_t id = 0;
    try {
        id = exec(tx, kInsertProduct, input.name, input.description, input.category_id,
                  format_money(input.base_price))[0][0]
                 .as<std::int64_t>();
    } catch (const pqxx::foreign_key_violation &) {
        throw unknown_id("category_id", input.category_id);
    }
    if (input.variants.empty())
        insert_default_variant(tx, id);
    else
        insert_variants(tx, id, input.variants);
    const auto products = products_of(exec(tx, kProductById, id));
    tx.commit();
    ctx.reply(201, render_one(products.at(0), write_product));
}

// ---------------------------------------------------------------------------------------------
// Variants and inventory

const Statement kVariantById{"catalog.variant_by_id",
                             "SELECT " CATALOG_VARIANT_COLUMNS " FROM variants v WHERE v.id = $1"};

const Statement kVariantPage{
    "catalog.variant_page",
    CATALOG_FILTERED_PAGE(CATALOG_VARIANT_COLUMNS, "variants v", "v.product_id", "v.id")};

// FOR SHARE: the price the new variant's delta is checked against cannot change under us.
const Statement kProductPriceForShare{"catalog.product_price_for_share",
                                      "SELECT base_price FROM products WHERE id = $1 FOR SHARE"};

const Statement kLockVariant{"catalog.lock_variant",
                             "SELECT reserved FROM variants WHERE id = $1 FOR UPDATE"};

const Statement kSetStock{
    "catalog.set_stock",
    "UPDATE variants AS v SET stock = $2 WHERE v.id = $1 RETURNING " CATALOG_VARIANT_COLUMNS};

void list_variants(const Ctx &ctx) {
    reply_filtered_list(ctx, "product", kVariantPage, variant_of, write_variant);
}

void get_variant(const Ctx &ctx) { reply_by_id(ctx, kVariantById, variant_of, write_variant); }

void create_variant(const Ctx &ctx) {
    ctx.require_admin();
    const auto input = parse_new_variant(ctx.json_body());
    pqxx::work tx(ctx.db());
    const auto product = exec(tx, kProductPriceForShare, input.product_id);
    if (product.empty()) throw unknown_id("product_id", input.product_id);
    FieldErrors errors;
    check_variant_price(money_column(product[0][0]), input.variant.price_delta, "price_delta",
                        errors);
    throw_field_errors(std::move(errors));
    const auto rows = insert_variant(tx, input.product_id, input.variant);
    if (rows.empty()) throw validation_failed({{"sku", {kDuplicateSku}}});
    tx.commit();
    ctx.reply(201, render_one(variant_of(rows[0]), write_variant));
}

void set_inventory(const Ctx &ctx) {
    ctx.require_admin();
    const auto id = ctx.id_param(0);
    const auto stock = parse_inventory(ctx.json_body());
    pqxx::work tx(ctx.db());
    // The row lock (bounded by the host's lock timeout: 409 + Retry-After) orders us after any
    // checkout that is reserving this variant, so `reserved` cannot grow between this check and
    // the update.
    const auto locked = exec(tx, kLockVariant, id);
    if (locked.empty()) throw not_found();
    const auto reserved = locked[0][0].as<std::int64_t>();
    if (stock < reserved)
        throw conflict("stock " + std::to_string(stock) + " is below the " +
                       std::to_string(reserved) + " units currently reserved.");
    const auto rows = exec(tx, kSetStock, id, stock);
    tx.commit();
    ctx.reply(200, render_one(variant_of(rows[0]), write_variant));
}

// ---------------------------------------------------------------------------------------------
// Plugin

const PluginDef kPlugin{"catalog",
                        "1.0.0",
                        {
                            {"GET", "/api/categories/", list_categories},
                            {"GET", "/api/categories/{id}/", get_category},
                            {"POST", "/api/categories/", create_category},
                            {"GET", "/api/products/", list_products},
                            {"GET", "/api/products/{id}/", get_product},
                            {"POST", "/api/products/", create_product},
                            {"GET", "/api/variants/", list_variants},
                            {"GET", "/api/variants/{id}/", get_variant},
                            {"POST", "/api/variants/", create_variant},
                            {"PUT", "/api/variants/{id}/inventory/", set_inventory},
                        }};

}  // namespace
}  // namespace shopd::catalog

SHOPD_PLUGIN(catalog, shopd::catalog::kPlugin)
