// cart plugin: the customer's cart. Each line keeps a price snapshot taken from
// the "price" service (served by whichever pricing plugin is loaded) at the
// customer's tier and the line's quantity, so later rule changes never alter a
// line already in the cart.
#include "cart_domain.hpp"

#include "shopd/commerce.hpp"
#include "shopd/plugin_def.hpp"
#include "shopd/sdk.hpp"

#include <stdexcept>

namespace shopd::cart {
namespace {

/// The service pricing each line; the host refuses the cart while no plugin
/// offers it.
constexpr const char *kPriceService = "price";

// ---- reads and locks shared by the handlers
// ---------------------------------------------------

// A line with its product: the columns line_from_row reads.
#define CART_LINE_SELECT                                                     \
    "SELECT ci.id, ci.variant_id, v.product_id, ci.quantity, ci.unit_price " \
    "FROM cart_items ci JOIN variants v ON v.id = ci.variant_id "

Line line_from_row(const pqxx::row &r) {
    Line l;
    l.id = r[0].as<std::int64_t>();
    l.variant_id = r[1].as<std::int64_t>();
    l.product_id = r[2].as<std::int64_t>();
    l.quantity = r[3].as<std::int64_t>();
    l.unit_price = money_column(r[4]);
    return l;
}

// Writers lock the cart row: concurrent adds of one customer run one after the
// other, so the merged quantity and its price snapshot are computed from the
// latest line. The upsert creates the cart if needed and, through DO UPDATE,
// locks it: one round trip.
const Statement kLockCart{
    "cart.lock_cart",
    "INSERT INTO carts (customer_id) VALUES ($1) "
    "ON CONFLICT (customer_id) DO UPDATE SET updated_at = now() RETURNING id"};

std::int64_t locked_cart_id(pqxx::work &tx, std::int64_t customer_id) {
    return exec(tx, kLockCart, customer_id)[0][0].as<std::int64_t>();
}

// An archived variant (DELETE in the catalog; archiving a product archives its
// variants) is as unknown as a missing one: it can be neither added nor given
// more units.
const Statement kVariant{"cart.variant",
                         "SELECT product_id, stock - reserved FROM variants "
                         "WHERE id = $1 AND archived_at IS NULL"};

struct VariantStock {
    std::int64_t product_id = 0;
    std::int64_t available = 0;
};

/// The variant a line refers to; 400 (a field error) when it does not exist.
VariantStock variant_stock(pqxx::work &tx, std::int64_t variant_id) {
    const auto rows = exec(tx, kVariant, variant_id);
    if (rows.empty())
        throw validation_failed(
            {{"variant_id", {"Unknown variant " + std::to_string(variant_id) + "."}}});
    return {rows[0][0].as<std::int64_t>(), rows[0][1].as<std::int64_t>()};
}

void require_available(std::int64_t quantity, std::int64_t available) {
    if (quantity > available)
        throw validation_failed(
            {{"quantity",
              {"Only " + std::to_string(available < 0 ? 0 : available) + " available."}}});
}

/// The error answering a price service reply other than 200. Its 409 and 503
/// pass through with their Retry-After, so the client knows to retry (see
/// unpriced_status).
ClientError unpriced(const ServiceReply &reply) {
    const int status = unpriced_status(reply.status);
    ClientError error(status, status_title(status), "The item could not be priced.");
    const std::string retry_after = reply.header("Retry-After");
    if (status == reply.status && !retry_after.empty())
        error.with_header("Retry-After", retry_after);
    return error;
}

/// Asks the pricing service for the unit price of `quantity` units for the
/// customer: at the customer's tier, and with the customer's own CUSTOMER rule,
/// if one is valid now.
Cents price_snapshot(const Ctx &ctx, pqxx::transaction_base &tx, const Customer &customer,
                     std::int64_t variant_id, std::int64_t quantity) {
    const std::string input = render_json([&](JsonWriter &w) {
        w.StartObject();
        put_key(w, "variant_id");
        w.Int64(variant_id);
        put_key(w, "quantity");
        w.Int64(quantity);
        put_key(w, "tier");
        put_string(w, customer.tier);
        put_key(w, "customer_id");
        w.Int64(customer.id);
        w.EndObject();
    });
    const auto reply = ctx.call_service(tx, kPriceService, input);
    // The host checks for the service when it loads the cart; a later reload may
    // still leave none, and then the client should retry rather than see a 500.
    if (!reply)
        throw ClientError(503, "Service Unavailable", "No pricing plugin is loaded.")
            .with_header("Retry-After", "1");
    if (reply->status != 200) {
        ctx.log(1, "price service answered " + std::to_string(reply->status) + ": " + reply->body);
        throw unpriced(*reply);
    }
    const auto unit = unit_price_from_reply(reply->body);
    if (!unit) throw std::runtime_error("price service returned no unit_price: " + reply->body);
    return *unit;
}

std::string render_line(const Line &line) {
    return render_json([&](JsonWriter &w) { write_line(w, line); });
}

// ---- GET /api/cart/
// -----------------------------------------------------------------------------

// Creating the cart lazily keeps customers free of a cart row until they use
// one.
const Statement kLines{"cart.lines", CART_LINE_SELECT "WHERE ci.cart_id = $1 ORDER BY ci.id"};

void get_cart(const Ctx &ctx) {
    pqxx::work tx(ctx.db());
    const Customer customer = ctx.require_customer(tx);
    // The same upsert as the writers: it creates the cart if needed, and a read
    // counts as use (updated_at), so reservation-release's purge of abandoned
    // carts never takes a cart its customer still looks at, nor one this request
    // is reading (the row is locked until commit).
    const auto cart_id = locked_cart_id(tx, customer.id);
    std::vector<Line> lines;
    for (const auto &row : exec(tx, kLines, cart_id)) lines.push_back(line_from_row(row));
    tx.commit();
    ctx.reply(200, render_cart(cart_id, lines));
}

// ---- POST /api/cart/items/
// ----------------------------------------------------------------------

// An add-to-cart is three statements and no BEGIN/COMMIT (issue 14: round
// trips): kAddContext reads everything the request needs, the price service
// prices the merged quantity, and kWriteLine writes the line under the cart row
// lock only if the line is still as read (the quantity a merge started from, or
// no line); when a concurrent writer changed it, the request starts over. The
// price snapshot is thus always the one of the quantity stored.
//
// kAddContext: the token's customer; how many live variants product $3 has (0,
// 1 or 2: a product with several needs variant_id) and the variant to add ($2,
// else the product's sole live one); the variant's product and availability
// (NULL: unknown or archived); and the quantity of its line in the customer's
// cart (NULL: no line).
const Statement kAddContext{
    "cart.add_context",
    "WITH t AS (SELECT (SELECT count(*) FROM (SELECT 1 FROM variants WHERE "
    "product_id = $3::bigint "
    "AND archived_at IS NULL LIMIT 2) x) AS n, coalesce($2::bigint, (SELECT "
    "min(id) FROM variants "
    "WHERE product_id = $3::bigint AND archived_at IS NULL)) AS vid) "
    "SELECT c.id, c.name, c.tier, t.n, v.id, v.product_id, v.stock - "
    "v.reserved, "
    "(SELECT ci.quantity FROM carts k JOIN cart_items ci ON ci.cart_id = k.id "
    "WHERE k.customer_id = c.id AND ci.variant_id = v.id) "
    "FROM customers c CROSS JOIN t LEFT JOIN variants v ON v.id = t.vid AND "
    "v.archived_at IS NULL "
    "WHERE c.token_hash = $1"};
// The upsert of the cart creates it if needed and, through DO UPDATE, locks it
// (as kLockCart). $5: the line's quantity as read (NULL: there was no line). No
// row back: the line changed.
const Statement kWriteLine{
    "cart.write_line",
    "WITH cart AS (INSERT INTO carts (customer_id) VALUES ($1) "
    "ON CONFLICT (customer_id) DO UPDATE SET updated_at = now() RETURNING id), "
    "upd AS (UPDATE cart_items ci SET quantity = $3, unit_price = $4::numeric "
    "FROM cart "
    "WHERE $5::integer IS NOT NULL AND ci.cart_id = cart.id AND ci.variant_id "
    "= $2 "
    "AND ci.quantity = $5::integer RETURNING ci.id), "
    "ins AS (INSERT INTO cart_items (cart_id, variant_id, quantity, "
    "unit_price) "
    "SELECT cart.id, $2, $3, $4::numeric FROM cart WHERE $5::integer IS NULL "
    "ON CONFLICT (cart_id, variant_id) DO NOTHING RETURNING id) "
    "SELECT id FROM upd UNION ALL SELECT id FROM ins"};

/// What kAddContext found for an add.
struct AddContext {
    Customer customer;
    std::int64_t variant_id = 0;
    VariantStock stock;
    std::optional<std::int64_t> existing;  // the line's quantity
};

/// Runs kAddContext: 401 for an unknown token, 400 for an unknown product or
/// variant, or a product with several variants.
AddContext add_context(const Ctx &ctx, pqxx::transaction_base &tx, const AddItem &input) {
    const std::string variant = input.variant_id ? std::to_string(*input.variant_id) : "";
    const std::string product = input.product_id ? std::to_string(*input.product_id) : "";
    const auto rows = exec(tx, kAddContext, sha256_hex(ctx.raw().bearer_token),
                           input.variant_id ? variant.c_str() : nullptr,
                           input.variant_id ? nullptr : product.c_str());
    if (rows.empty()) throw unauthorized("Invalid token.");
    const auto &r = rows[0];
    AddContext out;
    out.customer = Customer{r[0].as<std::int64_t>(), r[1].c_str(), r[2].c_str()};
    if (!input.variant_id) {
        const auto n = r[3].as<std::int64_t>();
        if (n == 0)
            throw validation_failed(
                {{"product_id", {"Unknown product " + std::to_string(*input.product_id) + "."}}});
        if (n > 1)
            throw validation_failed(
                {{"product_id", {"This product has several variants; give variant_id."}}});
    }
    if (r[4].is_null())
        throw validation_failed(
            {{"variant_id",
              {"Unknown variant " + std::to_string(input.variant_id.value_or(0)) + "."}}});
    out.variant_id = r[4].as<std::int64_t>();
    out.stock = {r[5].as<std::int64_t>(), r[6].as<std::int64_t>()};
    if (!r[7].is_null()) out.existing = r[7].as<std::int64_t>();
    return out;
}

/// The body of POST /api/cart/items/; a bad body is answered after
/// authentication (401 first).
AddItem add_item_input(const Ctx &ctx, pqxx::transaction_base &tx) {
    try {
        return parse_add_item(ctx.json_body());
    } catch (const ClientError &) {
        (void)ctx.require_customer(tx);
        throw;
    }
}

/// One try at adding `input` in `tx`: the line as answered (status 201 new, 200 merged), or
/// nullopt when a concurrent writer changed the line between kAddContext and kWriteLine.
std::optional<std::pair<int, Line>> try_add(const Ctx &ctx, pqxx::transaction_base &tx,
                                            const AddItem &input) {
    const AddContext c = add_context(ctx, tx, input);
    // Adding a variant already in the cart merges into one line and re-snapshots its price.
    const std::int64_t quantity = input.quantity + c.existing.value_or(0);
    if (quantity > kMaxQuantity)
        throw validation_failed(
            {{"quantity", {"A line holds at most " + std::to_string(kMaxQuantity) + " units."}}});
    require_available(quantity, c.stock.available);
    Line line;
    line.variant_id = c.variant_id;
    line.product_id = c.stock.product_id;
    line.quantity = quantity;
    line.unit_price = price_snapshot(ctx, tx, c.customer, c.variant_id, quantity);
    const std::string existing = c.existing ? std::to_string(*c.existing) : "";
    const auto rows = exec(tx, kWriteLine, c.customer.id, c.variant_id, quantity,
                           format_money(line.unit_price), c.existing ? existing.c_str() : nullptr);
    if (rows.empty()) return std::nullopt;
    line.id = rows[0][0].as<std::int64_t>();
    return std::make_pair(c.existing ? 200 : 201, line);
}

void add_item(const Ctx &ctx) {
    if (ctx.raw().bearer_token[0] == '\0') throw unauthorized();
    std::optional<std::pair<int, Line>> added;
    AddItem input;
    {
        // Each statement commits on its own: kWriteLine is the only write, and it checks that
        // what the reads found is still so.
        pqxx::nontransaction tx(ctx.db());
        input = add_item_input(ctx, tx);
        added = try_add(ctx, tx, input);
        tx.commit();
    }
    if (!added) {
        // Contended (concurrent adds of one customer): again under the cart row lock, taken
        // first, so the reads are the latest and the write cannot miss.
        pqxx::work tx(ctx.db());
        (void)locked_cart_id(tx, add_context(ctx, tx, input).customer.id);
        added = try_add(ctx, tx, input);
        if (!added) throw std::logic_error("cart line changed under the cart lock");
        tx.commit();
    }
    ctx.reply(added->first, render_line(added->second));
}

// ---- PATCH /api/cart/items/{id}/
// ----------------------------------------------------------------

const Statement kLine{"cart.line", CART_LINE_SELECT "WHERE ci.id = $1 AND ci.cart_id = $2"};
const Statement kUpdateLine{"cart.update_line",
                            "UPDATE cart_items SET quantity = $2, unit_price = "
                            "$3::numeric WHERE id = $1"};

void update_item(const Ctx &ctx) {
    pqxx::work tx(ctx.db());
    const Customer customer = ctx.require_customer(tx);
    const auto item_id = ctx.id_param(0);
    const auto quantity = parse_quantity_update(ctx.json_body());
    const auto cart_id = locked_cart_id(tx, customer.id);
    const auto rows = exec(tx, kLine, item_id, cart_id);
    // Another customer's item is indistinguishable from a missing one.
    if (rows.empty()) throw not_found();
    Line line = line_from_row(rows[0]);
    require_available(quantity, variant_stock(tx, line.variant_id).available);
    line.quantity = quantity;
    line.unit_price = price_snapshot(ctx, tx, customer, line.variant_id, quantity);
    exec(tx, kUpdateLine, line.id, quantity, format_money(line.unit_price));
    tx.commit();
    ctx.reply(200, render_line(line));
}

// ---- DELETE /api/cart/items/{id}/
// ---------------------------------------------------------------

const Statement kDeleteLine{"cart.delete_line",
                            "DELETE FROM cart_items WHERE id = $1 AND cart_id = $2"};

void delete_item(const Ctx &ctx) {
    pqxx::work tx(ctx.db());
    const Customer customer = ctx.require_customer(tx);
    const auto item_id = ctx.id_param(0);
    const auto cart_id = locked_cart_id(tx, customer.id);
    if (exec(tx, kDeleteLine, item_id, cart_id).affected_rows() == 0) throw not_found();
    tx.commit();
    ctx.reply_empty(204);
}

}  // namespace

const PluginDef kPlugin{"cart",
                        "1.0.0",
                        {{"GET", "/api/cart/", get_cart},
                         {"POST", "/api/cart/items/", add_item},
                         {"PATCH", "/api/cart/items/{id}/", update_item},
                         {"DELETE", "/api/cart/items/{id}/", delete_item}},
                        {},
                        {kPriceService}};

}  // namespace shopd::cart

SHOPD_PLUGIN(cart, shopd::cart::kPlugin)
