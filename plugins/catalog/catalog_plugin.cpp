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
//
// DELETE of a product or variant archives it (archived_at, sql/004): reservations and cart lines
// keep pointing at the row, while every read here filters "archived_at IS NULL" and so answers
// as if it were gone. Writers lock a product before its variants (product archive, variant
// update), so two of them never wait for each other in opposite orders.

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

/// SQL of one page of TABLE's COLUMNS, ordered by ID, narrowed to the rows where LIVE holds and
/// whose FILTER column is $1 unless $1 is NULL; $2 limit, $3 offset; the total count ends each
/// row.
#define CATALOG_FILTERED_PAGE(COLUMNS, TABLE, LIVE, FILTER, ID)                          \
    "SELECT " COLUMNS                                                                    \
    ","                                                                                  \
    " (SELECT count(*) FROM " TABLE " WHERE " LIVE " AND ($1::bigint IS NULL OR " FILTER \
    " = $1))"                                                                            \
    " FROM " TABLE " WHERE " LIVE " AND ($1::bigint IS NULL OR " FILTER                  \
    " = $1)"                                                                             \
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
    CATALOG_FILTERED_PAGE(CATALOG_CATEGORY_COLUMNS, "categories c", "TRUE", "c.parent_id", "c.id")};

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

// The row an update changes, locked until commit so that concurrent updates of it run one after
// the other. NO KEY UPDATE is the lock the UPDATE itself takes: it leaves foreign-key checks
// (FOR KEY SHARE) of new products and children free to proceed.
const Statement kLockCategoryForUpdate{"catalog.lock_category_for_update",
                                       "SELECT " CATALOG_CATEGORY_COLUMNS
                                       " FROM categories c WHERE c.id = $1 FOR NO KEY UPDATE"};

// A delete locks harder: FOR UPDATE conflicts with the FOR KEY SHARE of foreign-key checks, so
// no product or child can be added to the category between its checks and the DELETE.
const Statement kLockCategoryForDelete{"catalog.lock_category_for_delete",
                                       "SELECT id FROM categories WHERE id = $1 FOR UPDATE"};

// Re-parenting is checked against the whole tree, which row locks cannot cover: two moves
// (A under B, B under A) each see no cycle in their own snapshot. This transaction-scoped lock
// runs the moves one after the other; the check that follows takes a fresh snapshot (READ
// COMMITTED), so it sees the move committed before it.
const Statement kLockCategoryTree{
    "catalog.lock_category_tree",
    "SELECT pg_advisory_xact_lock(hashtext('shopd.catalog.category_tree'))"};

// From the new parent ($2) up to its root: whether that chain exists and whether it passes
// through the category being moved ($1), i.e. the parent is the category itself or one of its
// descendants. UNION stops at a cycle left by hand in the table.
const Statement kParentChain{"catalog.parent_chain",
                             "WITH RECURSIVE up (id, parent_id) AS ("
                             "SELECT id, parent_id FROM categories WHERE id = $2"
                             " UNION SELECT c.id, c.parent_id FROM categories c"
                             " JOIN up u ON c.id = u.parent_id"
                             ") SELECT count(*), count(*) FILTER (WHERE id = $1) FROM up"};

const Statement kUpdateCategory{"catalog.update_category",
                                "UPDATE categories SET name = $2, parent_id = $3 WHERE id = $1"};

// What keeps a category from being deleted: children, live products, archived products.
const Statement kCategoryDependents{
    "catalog.category_dependents",
    "SELECT (SELECT count(*) FROM categories WHERE parent_id = $1),"
    " (SELECT count(*) FROM products WHERE category_id = $1 AND archived_at IS NULL),"
    " (SELECT count(*) FROM products WHERE category_id = $1 AND archived_at IS NOT NULL)"};

const Statement kDeleteCategory{"catalog.delete_category", "DELETE FROM categories WHERE id = $1"};

/// 400 unless `parent_id` exists and is neither category `id` nor one of its descendants.
void check_new_parent(pqxx::work &tx, std::int64_t id, std::int64_t parent_id) {
    exec(tx, kLockCategoryTree);
    const auto chain = exec(tx, kParentChain, id, parent_id)[0];
    if (chain[0].as<std::int64_t>() == 0) throw unknown_id("parent_id", parent_id);
    if (chain[1].as<std::int64_t>() > 0)
        throw validation_failed(
            {{"parent_id",
              {"A category cannot be moved under itself or one of its descendants."}}});
}

void update_category(const Ctx &ctx, UpdateMode mode) {
    ctx.require_admin();
    const auto id = ctx.id_param(0);
    pqxx::work tx(ctx.db());
    // 404 before the body is looked at, as DRF's get_object() comes before validation.
    const auto locked = exec(tx, kLockCategoryForUpdate, id);
    if (locked.empty()) throw not_found();
    const auto changes = parse_category_changes(ctx.json_body(), mode);
    Category c = category_of(locked[0]);
    // Keeping the parent it has cannot make a cycle; any other parent is checked.
    if (changes.parent_id && changes.parent_id != c.parent_id)
        check_new_parent(tx, id, *changes.parent_id);
    apply_changes(c, changes);
    try {
        exec(tx, kUpdateCategory, id, c.name, c.parent_id);
    } catch (const pqxx::foreign_key_violation &) {
        // The parent was deleted after the check (the check does not lock it).
        throw unknown_id("parent_id", c.parent_id.value_or(0));
    }
    tx.commit();
    ctx.reply(200, render_one(c, write_category));
}

void put_category(const Ctx &ctx) { update_category(ctx, UpdateMode::PUT); }
void patch_category(const Ctx &ctx) { update_category(ctx, UpdateMode::PATCH); }

/// 204 once the category has no children and no products. Archived products keep their
/// category_id (products.category_id stays a NOT NULL foreign key, so what they belonged to is
/// never lost), and so they keep the category too: 409, saying so.
void delete_category(const Ctx &ctx) {
    ctx.require_admin();
    const auto id = ctx.id_param(0);
    pqxx::work tx(ctx.db());
    if (exec(tx, kLockCategoryForDelete, id).empty()) throw not_found();
    const auto dependents = exec(tx, kCategoryDependents, id)[0];
    const auto children = dependents[0].as<std::int64_t>();
    const auto live = dependents[1].as<std::int64_t>();
    const auto archived = dependents[2].as<std::int64_t>();
    if (children > 0 || live > 0)
        throw conflict("This category still has " + std::to_string(children) +
                       " child categories and " + std::to_string(live) +
                       " products; move or delete them first.");
    if (archived > 0)
        throw conflict(std::to_string(archived) +
                       " archived products still belong to this category (an archived product "
                       "keeps its category), so it cannot be deleted.");
    try {
        exec(tx, kDeleteCategory, id);
    } catch (const pqxx::foreign_key_violation &) {
        // Nothing can reference it after the checks while we hold its row lock; kept so that a
        // reference from a table added later still answers a clear 409 rather than a 500.
        throw conflict("This category is still referenced, so it cannot be deleted.");
    }
    tx.commit();
    ctx.reply_empty(204);
}

// ---------------------------------------------------------------------------------------------
// Products

#define CATALOG_PRODUCT_COLUMNS "p.id, p.name, p.description, p.category_id, p.base_price"

// A live product joined with each of its live variants (columns 0-4 product, 5-11 variant).
// The variants come from a LATERAL subquery kept apart by OFFSET 0, so they are found by p.id
// and never by $1: the plan then costs the same for every id. With a plain join PostgreSQL
// planned the variants for the value of $1; once products of 1000 variants skew the statistics
// each custom plan looked cheaper than the generic one and it re-planned on every call (issue
// 14: pgbench of this statement 14k tps, 38-40k in this shape, whatever the data).
const Statement kProductById{
    "catalog.product_by_id",
    "SELECT " CATALOG_PRODUCT_COLUMNS ", " CATALOG_VARIANT_COLUMNS
    " FROM products p"
    " LEFT JOIN LATERAL (SELECT id, product_id, sku, name, price_delta, stock, reserved"
    " FROM variants WHERE product_id = p.id AND archived_at IS NULL OFFSET 0) v ON true"
    " WHERE p.id = $1 AND p.archived_at IS NULL ORDER BY v.id"};

// GET /api/products/ parameters: $1 ?category=, $2 ?min_price=, $3 ?max_price=, $4 ?in_stock=
// (each NULL when absent), $5 limit, $6 offset, and in the search statements $7 ?search= (LIKE
// escaped). ?category= is the category and all its descendants: UNION (not UNION ALL) also
// stops at a parent cycle.
#define CATALOG_CATEGORY_TREE                 \
    "WITH RECURSIVE tree (id) AS ("           \
    "SELECT id FROM categories WHERE id = $1" \
    " UNION SELECT c.id FROM categories c JOIN tree t ON c.parent_id = t.id)"

// The live products matching $1-$4, over alias p. ?in_stock= tests membership in the set of
// products with a live variant in stock: PostgreSQL hashes that set once (one pass over
// variants, only when $4 is set). A correlated EXISTS would be costed per row of the table,
// and that inflated estimate makes PostgreSQL JIT-compile the plan (~0.7 s a request).
#define CATALOG_PRODUCT_FILTER                                                        \
    " WHERE p.archived_at IS NULL"                                                    \
    " AND ($1::bigint IS NULL OR p.category_id IN (SELECT id FROM tree))"             \
    " AND ($2::numeric IS NULL OR p.base_price >= $2)"                                \
    " AND ($3::numeric IS NULL OR p.base_price <= $3)"                                \
    " AND ($4::boolean IS NULL OR $4 = (p.id IN (SELECT s.product_id FROM variants s" \
    " WHERE s.archived_at IS NULL AND s.stock > s.reserved)))"

// ?search= as a LIKE pattern. lower() on both sides makes it case-insensitive, and the column
// side is exactly the expression the trigram indexes of sql/004 are built on (gin_trgm_ops
// serves LIKE), so each is a bitmap index scan rather than a scan of every row.
#define CATALOG_SEARCH_PATTERN "('%' || lower($7::text) || '%')"

// The products matching $1-$4 whose name or description contains $7 (one bitmap heap scan over
// both trigram indexes), and those with a live variant whose SKU does. The SKU matches come as
// an array, so the products are fetched by primary key whatever the planner guesses of their
// number (a join would turn into a scan of every product once it guesses "many"). UNION
// removes products found both ways.
#define CATALOG_SEARCH_FOUND                                                                \
    ", found AS (SELECT " CATALOG_PRODUCT_COLUMNS " FROM products p" CATALOG_PRODUCT_FILTER \
    " AND (lower(p.name) LIKE " CATALOG_SEARCH_PATTERN                                      \
    " OR lower(p.description) LIKE " CATALOG_SEARCH_PATTERN                                 \
    ") UNION SELECT " CATALOG_PRODUCT_COLUMNS " FROM products p" CATALOG_PRODUCT_FILTER     \
    " AND p.id = ANY (ARRAY(SELECT product_id FROM variants"                                \
    " WHERE lower(sku) LIKE " CATALOG_SEARCH_PATTERN " AND archived_at IS NULL)))"

// The page's products (CTE page, in ORDER) with all their live variants, then the total count
// (COUNT: a scalar subquery, computed once, from the same snapshot as the page).
#define CATALOG_PRODUCT_ROWS(ORDER, COUNT)                                               \
    " SELECT " CATALOG_PRODUCT_COLUMNS ", " CATALOG_VARIANT_COLUMNS ", (" COUNT          \
    ")"                                                                                  \
    " FROM page p LEFT JOIN variants v ON v.product_id = p.id AND v.archived_at IS NULL" \
    " ORDER BY " ORDER ", v.id"

// One page of products without ?search=. ORDER is a fixed SQL fragment over alias p, one
// prepared statement per ordering, so each gets its own plan: an index scan that stops after
// offset + limit rows (pkey, and the (lower(name), id) and (base_price, id) indexes of sql/004
// and sql/003). id breaks ties so pages never overlap.
#define CATALOG_PRODUCT_PAGE(ORDER)                                                    \
    CATALOG_CATEGORY_TREE ", page AS (SELECT " CATALOG_PRODUCT_COLUMNS                 \
                          " FROM products p" CATALOG_PRODUCT_FILTER " ORDER BY " ORDER \
                          " LIMIT $5 OFFSET $6)" CATALOG_PRODUCT_ROWS(                 \
                              ORDER, "SELECT count(*) FROM products p" CATALOG_PRODUCT_FILTER)

// One page of products with ?search=: statements of their own, so that no plan (the generic one
// PostgreSQL may settle on after five runs included) has to serve both a search, which the
// trigram indexes narrow to a few rows, and a plain list, which an ordered index scan serves.
// found is read twice (page, count), so it is computed once.
#define CATALOG_SEARCH_PAGE(ORDER)                         \
    CATALOG_CATEGORY_TREE CATALOG_SEARCH_FOUND             \
        ", page AS (SELECT * FROM found p ORDER BY " ORDER \
        " LIMIT $5 OFFSET $6)" CATALOG_PRODUCT_ROWS(ORDER, "SELECT count(*) FROM found")

// The ORDER fragments, indexed by ProductOrdering. Names compare by lower(name), as the
// (lower(name), id) index of sql/004 is built, so "apple" and "Banana" sort as a person expects.
#define CATALOG_ORDER_ID              "p.id"
#define CATALOG_ORDER_ID_DESC         "p.id DESC"
#define CATALOG_ORDER_NAME            "lower(p.name), p.id"
#define CATALOG_ORDER_NAME_DESC       "lower(p.name) DESC, p.id DESC"
#define CATALOG_ORDER_BASE_PRICE      "p.base_price, p.id"
#define CATALOG_ORDER_BASE_PRICE_DESC "p.base_price DESC, p.id DESC"

// Indexed by ProductOrdering.
const std::array<Statement, kProductOrderingCount> kProductPages{{
    {"catalog.product_page_id", CATALOG_PRODUCT_PAGE(CATALOG_ORDER_ID)},
    {"catalog.product_page_id_desc", CATALOG_PRODUCT_PAGE(CATALOG_ORDER_ID_DESC)},
    {"catalog.product_page_name", CATALOG_PRODUCT_PAGE(CATALOG_ORDER_NAME)},
    {"catalog.product_page_name_desc", CATALOG_PRODUCT_PAGE(CATALOG_ORDER_NAME_DESC)},
    {"catalog.product_page_base_price", CATALOG_PRODUCT_PAGE(CATALOG_ORDER_BASE_PRICE)},
    {"catalog.product_page_base_price_desc", CATALOG_PRODUCT_PAGE(CATALOG_ORDER_BASE_PRICE_DESC)},
}};

// Indexed by ProductOrdering.
const std::array<Statement, kProductOrderingCount> kProductSearchPages{{
    {"catalog.product_search_id", CATALOG_SEARCH_PAGE(CATALOG_ORDER_ID)},
    {"catalog.product_search_id_desc", CATALOG_SEARCH_PAGE(CATALOG_ORDER_ID_DESC)},
    {"catalog.product_search_name", CATALOG_SEARCH_PAGE(CATALOG_ORDER_NAME)},
    {"catalog.product_search_name_desc", CATALOG_SEARCH_PAGE(CATALOG_ORDER_NAME_DESC)},
    {"catalog.product_search_base_price", CATALOG_SEARCH_PAGE(CATALOG_ORDER_BASE_PRICE)},
    {"catalog.product_search_base_price_desc", CATALOG_SEARCH_PAGE(CATALOG_ORDER_BASE_PRICE_DESC)},
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

/// The product in the first columns of a row (CATALOG_PRODUCT_COLUMNS), without variants.
Product product_of(const pqxx::row &r) {
    Product p;
    p.id = r[0].as<std::int64_t>();
    p.name = r[1].c_str();
    p.description = r[2].c_str();
    p.category_id = r[3].as<std::int64_t>();
    p.base_price = money_column(r[4]);
    return p;
}

/// Folds product x variant rows (kProductById's columns, products in order) into products.
std::vector<Product> products_of(const pqxx::result &rows) {
    std::vector<Product> out;
    for (const auto &r : rows) {
        if (out.empty() || out.back().id != r[0].as<std::int64_t>()) out.push_back(product_of(r));
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

/// A price filter as the text of a NUMERIC parameter (NULL when absent).
std::optional<std::string> price_parameter(const std::optional<Cents> &cents) {
    if (!cents) return std::nullopt;
    return format_money(*cents);
}

void list_products(const Ctx &ctx) {
    const auto query = ctx.query();
    const auto q = parse_product_query(query);
    const auto page = parse_page_request(query);
    const auto order = static_cast<std::size_t>(q.ordering);
    const auto min_price = price_parameter(q.min_price);
    const auto max_price = price_parameter(q.max_price);
    ReadTx tx(ctx.db());
    const auto rows = q.search_like
                          ? exec(tx, kProductSearchPages[order], q.category, min_price, max_price,
                                 q.in_stock, page.page_size, page.offset(), *q.search_like)
                          : exec(tx, kProductPages[order], q.category, min_price, max_price,
                                 q.in_stock, page.page_size, page.offset());
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

// The live product an update changes, locked until commit (NO KEY UPDATE, the UPDATE's own
// lock). Variant writers that check their price_delta against base_price hold it FOR SHARE,
// which conflicts, so neither side checks a stale value.
const Statement kLockProduct{"catalog.lock_product", "SELECT " CATALOG_PRODUCT_COLUMNS
                                                     " FROM products p"
                                                     " WHERE p.id = $1 AND p.archived_at IS NULL"
                                                     " FOR NO KEY UPDATE"};

// The lowest price_delta of the live variants: the one a lower base_price must still cover.
const Statement kLowestDelta{
    "catalog.lowest_delta",
    "SELECT min(price_delta) FROM variants WHERE product_id = $1 AND archived_at IS NULL"};

const Statement kUpdateProduct{"catalog.update_product",
                               "UPDATE products SET name = $2, description = $3,"
                               " category_id = $4, base_price = $5::numeric WHERE id = $1"};

// Archiving takes the product's row lock first (as every product writer does), then its
// variants'; both carry the same now(), the transaction's start.
const Statement kArchiveProduct{
    "catalog.archive_product",
    "UPDATE products SET archived_at = now() WHERE id = $1 AND archived_at IS NULL RETURNING id"};
const Statement kArchiveProductVariants{
    "catalog.archive_product_variants",
    "UPDATE variants SET archived_at = now() WHERE product_id = $1 AND archived_at IS NULL"};

void update_product(const Ctx &ctx, UpdateMode mode) {
    ctx.require_admin();
    const auto id = ctx.id_param(0);
    pqxx::work tx(ctx.db());
    const auto locked = exec(tx, kLockProduct, id);
    if (locked.empty()) throw not_found();
    const auto changes = parse_product_changes(ctx.json_body(), mode);
    Product p = product_of(locked[0]);
    apply_changes(p, changes);
    if (changes.base_price) {
        const auto lowest = exec(tx, kLowestDelta, id)[0][0];
        FieldErrors errors;
        if (!lowest.is_null())
            check_variant_price(p.base_price, money_column(lowest), "base_price", errors);
        throw_field_errors(std::move(errors));
    }
    try {
        exec(tx, kUpdateProduct, id, p.name, p.description, p.category_id,
             format_money(p.base_price));
    } catch (const pqxx::foreign_key_violation &) {
        throw unknown_id("category_id", p.category_id);
    }
    const auto products = products_of(exec(tx, kProductById, id));
    tx.commit();
    ctx.reply(200, render_one(products.at(0), write_product));
}

void put_product(const Ctx &ctx) { update_product(ctx, UpdateMode::PUT); }
void patch_product(const Ctx &ctx) { update_product(ctx, UpdateMode::PATCH); }

void delete_product(const Ctx &ctx) {
    ctx.require_admin();
    const auto id = ctx.id_param(0);
    pqxx::work tx(ctx.db());
    if (exec(tx, kArchiveProduct, id).empty()) throw not_found();
    exec(tx, kArchiveProductVariants, id);
    tx.commit();
    ctx.reply_empty(204);
}

// ---------------------------------------------------------------------------------------------
// Variants and inventory

const Statement kVariantById{"catalog.variant_by_id",
                             "SELECT " CATALOG_VARIANT_COLUMNS
                             " FROM variants v WHERE v.id = $1 AND v.archived_at IS NULL"};

const Statement kVariantPage{
    "catalog.variant_page", CATALOG_FILTERED_PAGE(CATALOG_VARIANT_COLUMNS, "variants v",
                                                  "v.archived_at IS NULL", "v.product_id", "v.id")};

// FOR SHARE: the price the variant's delta is checked against cannot change under us, and the
// product cannot be archived meanwhile (an archive that committed first is seen on the re-check
// of the row, so the product counts as unknown).
const Statement kProductPriceForShare{
    "catalog.product_price_for_share",
    "SELECT base_price FROM products WHERE id = $1 AND archived_at IS NULL FOR SHARE"};

const Statement kLockVariant{
    "catalog.lock_variant",
    "SELECT reserved FROM variants WHERE id = $1 AND archived_at IS NULL FOR UPDATE"};

// The product of a live variant, read without a lock: variant updates lock the product first.
const Statement kVariantProduct{
    "catalog.variant_product",
    "SELECT product_id FROM variants WHERE id = $1 AND archived_at IS NULL"};

// The variant an update changes (NO KEY UPDATE, the UPDATE's own lock: cart lines may still
// reference it meanwhile). It conflicts with the FOR UPDATE of a checkout reserving the
// variant, so `reserved` cannot change between the stock check and the UPDATE.
const Statement kLockVariantRow{"catalog.lock_variant_row",
                                "SELECT " CATALOG_VARIANT_COLUMNS
                                " FROM variants v"
                                " WHERE v.id = $1 AND v.archived_at IS NULL FOR NO KEY UPDATE"};

const Statement kUpdateVariant{
    "catalog.update_variant",
    "UPDATE variants AS v SET sku = $2, name = $3, price_delta = $4::numeric, stock = $5"
    " WHERE v.id = $1 RETURNING " CATALOG_VARIANT_COLUMNS};

const Statement kArchiveVariant{
    "catalog.archive_variant",
    "UPDATE variants SET archived_at = now() WHERE id = $1 AND archived_at IS NULL RETURNING id"};

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
    check_stock_covers_reserved(stock, locked[0][0].as<std::int64_t>());
    const auto rows = exec(tx, kSetStock, id, stock);
    tx.commit();
    ctx.reply(200, render_one(variant_of(rows[0]), write_variant));
}

void update_variant(const Ctx &ctx, UpdateMode mode) {
    ctx.require_admin();
    const auto id = ctx.id_param(0);
    pqxx::work tx(ctx.db());
    // Product before variant, the order of every writer that takes both (see the top).
    const auto owner = exec(tx, kVariantProduct, id);
    if (owner.empty()) throw not_found();
    const auto product = exec(tx, kProductPriceForShare, owner[0][0].as<std::int64_t>());
    const auto locked = product.empty() ? pqxx::result() : exec(tx, kLockVariantRow, id);
    if (locked.empty()) throw not_found();  // archived while we waited
    const auto changes = parse_variant_changes(ctx.json_body(), mode);
    Variant v = variant_of(locked[0]);
    apply_changes(v, changes);
    FieldErrors errors;
    check_variant_price(money_column(product[0][0]), v.price_delta, "price_delta", errors);
    throw_field_errors(std::move(errors));
    // Under the row lock: no checkout can raise `reserved` before this commits.
    check_stock_covers_reserved(v.stock, v.reserved);
    pqxx::result rows;
    try {
        rows = exec(tx, kUpdateVariant, id, v.sku, v.name, format_money(v.price_delta), v.stock);
    } catch (const pqxx::unique_violation &) {
        // SKUs stay taken by archived variants too: reservations and orders still name them.
        throw validation_failed({{"sku", {kDuplicateSku}}});
    }
    tx.commit();
    ctx.reply(200, render_one(variant_of(rows[0]), write_variant));
}

void put_variant(const Ctx &ctx) { update_variant(ctx, UpdateMode::PUT); }
void patch_variant(const Ctx &ctx) { update_variant(ctx, UpdateMode::PATCH); }

void delete_variant(const Ctx &ctx) {
    ctx.require_admin();
    const auto id = ctx.id_param(0);
    pqxx::work tx(ctx.db());
    if (exec(tx, kArchiveVariant, id).empty()) throw not_found();
    tx.commit();
    ctx.reply_empty(204);
}

// ---------------------------------------------------------------------------------------------
// Plugin

const PluginDef kPlugin{"catalog",
                        "1.0.0",
                        {
                            {"GET", "/api/categories/", list_categories},
                            {"GET", "/api/categories/{id}/", get_category},
                            {"PUT", "/api/categories/{id}/", put_category},
                            {"PATCH", "/api/categories/{id}/", patch_category},
                            {"DELETE", "/api/categories/{id}/", delete_category},
                            {"POST", "/api/categories/", create_category},
                            {"GET", "/api/products/", list_products},
                            {"GET", "/api/products/{id}/", get_product},
                            {"PUT", "/api/products/{id}/", put_product},
                            {"PATCH", "/api/products/{id}/", patch_product},
                            {"DELETE", "/api/products/{id}/", delete_product},
                            {"POST", "/api/products/", create_product},
                            {"GET", "/api/variants/", list_variants},
                            {"GET", "/api/variants/{id}/", get_variant},
                            {"PUT", "/api/variants/{id}/", put_variant},
                            {"PATCH", "/api/variants/{id}/", patch_variant},
                            {"DELETE", "/api/variants/{id}/", delete_variant},
                            {"POST", "/api/variants/", create_variant},
                            {"PUT", "/api/variants/{id}/inventory/", set_inventory},
                        }};

}  // namespace
}  // namespace shopd::catalog

SHOPD_PLUGIN(catalog, shopd::catalog::kPlugin)
