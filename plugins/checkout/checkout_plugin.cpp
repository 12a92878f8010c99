// checkout plugin: turns the customer's cart into a reservation (stock held for a TTL) in one
// transaction, with Idempotency-Key support, and lets the customer read, confirm or cancel it;
// lists reservations (a customer its own, the admin everyone's).
#include "checkout_domain.hpp"
#include "release.hpp"

#include "shopd/plugin_def.hpp"

#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

namespace shopd::checkout {
namespace {

/// Longest Idempotency-Key accepted (Stripe's limit); longer -> 400.
constexpr std::size_t kMaxKeyLength = 255;

// ---------------------------------------------------------------------------------------------
// Options (how long a checkout, confirm or cancel waits for a row lock is the host's job: it sets
// lock_timeout from --lock-timeout-ms on every worker connection)

constexpr std::int64_t kDefaultReservationTtl = 300;
constexpr std::int64_t kMaxReservationTtl = 365LL * 24 * 3600;

/// Seconds a new reservation holds its stock: checkout.reservation-ttl (the host maps the older
/// --reservation-ttl to it). A file-level static, so each loaded generation keeps its own.
std::int64_t g_reservation_ttl = kDefaultReservationTtl;

void configure(const Settings &settings) {
    g_reservation_ttl =
        settings.integer("reservation-ttl", kDefaultReservationTtl, 1, kMaxReservationTtl);
}

// ---------------------------------------------------------------------------------------------
// Reading a reservation (every route answers with one)

/// (variant_id, quantity, unit_price) rows as lines.
std::vector<Line> lines_of(const pqxx::result &rows) {
    std::vector<Line> out;
    for (const auto &r : rows)
        out.push_back({r[0].as<std::int64_t>(), r[1].as<std::int64_t>(), money_column(r[2])});
    return out;
}

// The reservation with its items (in the order written), in one statement: one row per item,
// or one row of NULL items for a reservation without any.
const Statement kReservationWithItems{
    "checkout.reservation_with_items",
    "SELECT r.status, floor(extract(epoch FROM r.expires_at))::bigint, r.total, "
    "i.variant_id, i.quantity, i.unit_price FROM reservations r "
    "LEFT JOIN reservation_items i ON i.reservation_id = r.id "
    "WHERE r.id = $1 AND r.customer_id = $2 ORDER BY i.id"};

/// The caller's reservation `id`; 404 when there is none (another customer's included).
Reservation load_reservation(pqxx::work &tx, std::int64_t id, std::int64_t customer_id) {
    const auto rows = exec(tx, kReservationWithItems, id, customer_id);
    if (rows.empty()) throw not_found();
    Reservation r;
    r.id = id;
    r.status = rows[0][0].c_str();
    r.expires_at = rows[0][1].as<std::int64_t>();
    r.total = money_column(rows[0][2]);
    for (const auto &row : rows)
        if (!row[3].is_null())
            r.items.push_back(
                {row[3].as<std::int64_t>(), row[4].as<std::int64_t>(), money_column(row[5])});
    return r;
}

// ---------------------------------------------------------------------------------------------
// Checkout

// Idempotency: a transaction-scoped advisory lock on (customer, key) marks "a request with this key
// is running". pg_try_ never waits, so a concurrent duplicate learns it at once (409) instead of
// queueing behind the first — which a plain INSERT ... ON CONFLICT on the key would do, blocked by
// the first request's uncommitted insert. PostgreSQL releases the lock only after the first
// transaction's commit is visible, so whoever gets the lock next sees the stored key. A 64-bit
// hash collision between two keys would only cost a spurious 409.
const Statement kCustomerKeyLock{
    "checkout.customer_key_lock",
    "SELECT c.id, c.name, c.tier, "
    "pg_try_advisory_xact_lock(hashtextextended(c.id::text || ':' || $2, 0)) "
    "FROM customers c WHERE c.token_hash = $1"};
const Statement kStoreKey{
    "checkout.store_key",
    "INSERT INTO idempotency_keys (customer_id, key, request_hash, reservation_id) "
    "VALUES ($1, $2, $3, $4)"};

// The cart row lock orders us after the cart plugin's writers, so the lines cannot change
// between reading and emptying them. The customer lookup (the bearer token) comes with it: one
// round trip. A scalar subquery, since FOR UPDATE cannot lock the nullable side of a join.
const Statement kCustomerLockCart{
    "checkout.customer_lock_cart",
    "SELECT c.id, c.name, c.tier, "
    "(SELECT k.id FROM carts k WHERE k.customer_id = c.id FOR UPDATE) "
    "FROM customers c WHERE c.token_hash = $1"};
// With an Idempotency-Key: the key's stored outcome and the cart lock, after the key's lock
// (a statement of its own, so this one's snapshot sees what the key's last holder committed).
const Statement kFindKeyLockCart{
    "checkout.find_key_lock_cart",
    "SELECT (SELECT k.id FROM carts k WHERE k.customer_id = $1 FOR UPDATE), "
    "i.request_hash, i.reservation_id FROM (SELECT 1) one LEFT JOIN idempotency_keys i "
    "ON i.customer_id = $1 AND i.key = $2 AND i.reservation_id IS NOT NULL"};
const Statement kCartLines{
    "checkout.cart_lines",
    "SELECT variant_id, quantity, unit_price FROM cart_items WHERE cart_id = $1 ORDER BY variant_id"};

// The checkout in one statement (issue 14: round trips), run under the cart row lock so its
// snapshot holds the cart's latest lines. It locks the lines' variant rows in id order (every
// writer of variant rows does: checkouts sharing variants queue instead of deadlocking; LockRows
// runs above the Sort, and FOR UPDATE returns each row's latest version), and only when every
// line is available adds the quantities to `reserved`, writes the reservation and its items
// (in variant order) and empties the cart. One row per line, in variant order: variant,
// quantity, unit price, available, then the reservation's id and expiry (NULL when nothing was
// reserved: an empty cart or a shortage). The aggregate in `ok` reads every locked row first.
const Statement kReserveCart{
    "checkout.reserve_cart",
    "WITH lines AS (SELECT variant_id, quantity, unit_price FROM cart_items WHERE cart_id = $1), "
    "locked AS (SELECT id, stock - reserved AS available FROM variants "
    "WHERE id IN (SELECT variant_id FROM lines) ORDER BY id FOR UPDATE), "
    "checked AS (SELECT l.variant_id, l.quantity, l.unit_price, "
    "coalesce(k.available, 0) AS available FROM lines l LEFT JOIN locked k ON k.id = l.variant_id), "
    "ok AS (SELECT coalesce(bool_and(quantity <= available), false) AS ok, "
    "sum(quantity * unit_price) AS total FROM checked), "
    "added AS (UPDATE variants v SET reserved = v.reserved + c.quantity FROM checked c, ok "
    "WHERE ok.ok AND v.id = c.variant_id), "
    "res AS (INSERT INTO reservations (customer_id, expires_at, total) "
    "SELECT $2, now() + $3::integer * interval '1 second', ok.total FROM ok WHERE ok.ok "
    "RETURNING id, floor(extract(epoch FROM expires_at))::bigint AS expires), "
    "items AS (INSERT INTO reservation_items "
    "(reservation_id, variant_id, quantity, unit_price, line_total) "
    "SELECT r.id, c.variant_id, c.quantity, c.unit_price, c.quantity * c.unit_price "
    "FROM res r, checked c ORDER BY c.variant_id), "
    "emptied AS (DELETE FROM cart_items WHERE cart_id = $1 AND (SELECT ok FROM ok)) "
    "SELECT c.variant_id, c.quantity, c.unit_price, c.available, r.id, r.expires "
    "FROM checked c LEFT JOIN res r ON true ORDER BY c.variant_id"};

/// An Idempotency-Key already used successfully by this customer.
struct StoredKey {
    std::string request_hash;
    std::int64_t reservation_id = 0;
};

/// The bearer token's customer and, locked, the id of its cart (none yet: nullopt). 401 without
/// a token or for an unknown one, as Ctx::require_customer answers.
std::pair<Customer, std::optional<std::int64_t>> customer_and_locked_cart(const Ctx &ctx,
                                                                          pqxx::work &tx) {
    if (ctx.raw().bearer_token[0] == '\0') throw unauthorized();
    const auto rows = exec(tx, kCustomerLockCart, sha256_hex(ctx.raw().bearer_token));
    if (rows.empty()) throw unauthorized("Invalid token.");
    const auto &row = rows[0];
    const Customer customer{row[0].as<std::int64_t>(), row[1].c_str(), row[2].c_str()};
    if (row[3].is_null()) return {customer, std::nullopt};
    return {customer, row[3].as<std::int64_t>()};
}

/// Takes the key's advisory lock (409 when a request with the key is running) with the customer
/// lookup, before any row lock, so a concurrent duplicate never waits; then, in one statement,
/// reads the key's stored outcome, if an earlier request with it succeeded, and locks the
/// customer's cart, whose id it returns (nullopt: no cart yet).
std::tuple<Customer, std::optional<StoredKey>, std::optional<std::int64_t>> claim_key_lock_cart(
    const Ctx &ctx, pqxx::work &tx, const std::string &key) {
    if (key.size() > kMaxKeyLength) {
        (void)customer_and_locked_cart(ctx, tx);  // 401 before this 400
        throw bad_request("Idempotency-Key is longer than " + std::to_string(kMaxKeyLength) +
                          " characters.");
    }
    if (ctx.raw().bearer_token[0] == '\0') throw unauthorized();
    const auto rows = exec(tx, kCustomerKeyLock, sha256_hex(ctx.raw().bearer_token), key);
    if (rows.empty()) throw unauthorized("Invalid token.");
    const Customer customer{rows[0][0].as<std::int64_t>(), rows[0][1].c_str(), rows[0][2].c_str()};
    if (!rows[0][3].as<bool>())
        throw conflict("A request with this Idempotency-Key is still in progress.")
            .with_header("Retry-After", "1");
    const auto row = exec(tx, kFindKeyLockCart, customer.id, key)[0];
    std::optional<std::int64_t> cart_id;
    if (!row[0].is_null()) cart_id = row[0].as<std::int64_t>();
    if (row[1].is_null()) return {customer, std::nullopt, cart_id};
    return {customer, StoredKey{row[1].c_str(), row[2].as<std::int64_t>()}, cart_id};
}

/// One run of kReserveCart: the cart's lines, what is available of each (locked), and the
/// reservation when it was made.
struct Attempt {
    std::vector<Line> lines;
    Availability available;
    std::optional<std::int64_t> reservation_id;
    std::int64_t expires_at = 0;
};

Attempt reserve_cart(pqxx::work &tx, std::int64_t cart_id, std::int64_t customer_id) {
    Attempt a;
    for (const auto &r : exec(tx, kReserveCart, cart_id, customer_id, g_reservation_ttl)) {
        a.lines.push_back({r[0].as<std::int64_t>(), r[1].as<std::int64_t>(), money_column(r[2])});
        a.available[r[0].as<std::int64_t>()] = r[3].as<std::int64_t>();
        if (!r[4].is_null()) {
            a.reservation_id = r[4].as<std::int64_t>();
            a.expires_at = r[5].as<std::int64_t>();
        }
    }
    return a;
}

/// Releases the expired reservations holding the short variants, as far as that needs no wait
/// (see lock_expired_holding); `locked` are the variant rows the checkout holds. Returns how many.
std::size_t release_expired_holding(pqxx::work &tx, const std::vector<Shortage> &short_lines,
                                    const Availability &locked) {
    std::set<std::int64_t> locked_ids;
    for (const auto &[id, unused] : locked) locked_ids.insert(id);
    const Ids expired = lock_expired_holding(tx, variant_ids_of(short_lines), locked_ids);
    return release_locked(tx, expired, kReleasedByCheckout);
}

/// Reserves the whole cart (kReserveCart). When stock is short, releases the expired
/// reservations holding the short variants and tries once more (the variant rows are held by
/// then). Still short: throws out_of_stock(), whose 400 leaves the handler only after the
/// pqxx::work has rolled back (release included); an empty cart is a 400 too.
Reservation reserve_or_throw(pqxx::work &tx, std::int64_t cart_id, std::int64_t customer_id) {
    Attempt a = reserve_cart(tx, cart_id, customer_id);
    if (a.lines.empty()) throw validation_failed({{"items", {"The cart is empty."}}});
    if (!a.reservation_id) {
        const auto short_lines = shortages(a.lines, a.available);
        if (!short_lines.empty() && release_expired_holding(tx, short_lines, a.available) > 0)
            a = reserve_cart(tx, cart_id, customer_id);
        if (!a.reservation_id) throw out_of_stock(shortages(a.lines, a.available));
    }
    // Built from what the statement wrote rather than read back.
    Reservation r;
    r.id = *a.reservation_id;
    r.status = "ACTIVE";
    r.expires_at = a.expires_at;
    r.total = total_of(a.lines);
    r.items = std::move(a.lines);
    return r;
}

/// The lines of the (locked) cart, for comparing a replayed key's request; none without a cart.
std::vector<Line> cart_lines(pqxx::work &tx, const std::optional<std::int64_t> &cart_id) {
    return cart_id ? lines_of(exec(tx, kCartLines, *cart_id)) : std::vector<Line>{};
}

/// Answers a repeated key: the stored reservation, unless the cart now holds something else.
/// After a successful checkout the cart is empty, so a plain retry sends an empty cart: the key
/// identifies the original request (Stripe's semantics), and an empty cart is a replay too.
void replay(const Ctx &ctx, pqxx::work &tx, std::int64_t customer_id, const StoredKey &stored,
            const std::vector<Line> &lines) {
    if (!lines.empty() && request_hash(lines) != stored.request_hash)
        throw ClientError(422, status_title(422),
                          "This Idempotency-Key was already used with a different cart.");
    const Reservation r = load_reservation(tx, stored.reservation_id, customer_id);
    tx.commit();
    ctx.header("Idempotent-Replayed", "true");
    ctx.reply(201, render_reservation(r));
}

/// POST /api/cart/checkout/ — round trips: BEGIN, customer + cart lock, kReserveCart, COMMIT;
/// with an Idempotency-Key: BEGIN, customer + key lock, key + cart lock, kReserveCart, store key,
/// COMMIT; a replay: BEGIN, customer + key lock, key + cart lock, the cart's lines, the stored
/// reservation, COMMIT. More only when stock is short (the lazy release).
void checkout(const Ctx &ctx) {
    pqxx::work tx(ctx.db());
    const std::string key = ctx.raw().idempotency_key;
    if (key.empty()) {
        const auto [customer, cart_id] = customer_and_locked_cart(ctx, tx);
        if (!cart_id) throw validation_failed({{"items", {"The cart is empty."}}});
        const Reservation r = reserve_or_throw(tx, *cart_id, customer.id);
        tx.commit();
        return ctx.reply(201, render_reservation(r));
    }
    const auto [customer, stored, cart_id] = claim_key_lock_cart(ctx, tx, key);
    if (stored) return replay(ctx, tx, customer.id, *stored, cart_lines(tx, cart_id));
    if (!cart_id) throw validation_failed({{"items", {"The cart is empty."}}});
    const Reservation r = reserve_or_throw(tx, *cart_id, customer.id);
    exec(tx, kStoreKey, customer.id, key, request_hash(r.items), r.id);
    tx.commit();
    ctx.reply(201, render_reservation(r));
}

// ---------------------------------------------------------------------------------------------
// Reservations

/// GET /api/reservations/{id}/
void get_reservation(const Ctx &ctx) {
    pqxx::work tx(ctx.db());
    const Customer customer = ctx.require_customer(tx);
    const Reservation r = load_reservation(tx, ctx.id_param(0), customer.id);
    tx.commit();
    ctx.reply(200, render_reservation(r));
}

// GET /api/reservations/: one page, newest first. Each filter combination has its own statement
// (a NULL-able "$1 IS NULL OR ..." parameter would leave a generic plan unable to use the
// indexes of sql/006: reservations (customer_id, id DESC) and (status, id DESC)). The count of
// every matching row ends each row: an uncorrelated subquery, computed once, so count and page
// come in one statement while the page scan still stops after LIMIT rows. The subquery's alias
// r shadows the outer one, so one WHERE text serves both.
#define CHECKOUT_RESERVATION_PAGE(WHERE, LIMIT, OFFSET)                                 \
    "SELECT r.id, r.status, floor(extract(epoch FROM r.expires_at))::bigint, r.total, " \
    "(SELECT count(*) FROM reservations r " WHERE ") FROM reservations r " WHERE        \
    " ORDER BY r.id DESC LIMIT " LIMIT " OFFSET " OFFSET

const Statement kPageAll{"checkout.reservation_page", CHECKOUT_RESERVATION_PAGE("", "$1", "$2")};
const Statement kPageOfCustomer{"checkout.reservation_page_customer",
                                CHECKOUT_RESERVATION_PAGE("WHERE r.customer_id = $1", "$2", "$3")};
const Statement kPageWithStatus{"checkout.reservation_page_status",
                                CHECKOUT_RESERVATION_PAGE("WHERE r.status = $1", "$2", "$3")};
const Statement kPageOfCustomerWithStatus{
    "checkout.reservation_page_customer_status",
    CHECKOUT_RESERVATION_PAGE("WHERE r.customer_id = $1 AND r.status = $2", "$3", "$4")};
// The items of every reservation on the page at once (no query per reservation).
const Statement kItemsOfReservations{
    "checkout.items_of_reservations",
    "SELECT reservation_id, variant_id, quantity, unit_price FROM reservation_items "
    "WHERE reservation_id = ANY($1::bigint[]) ORDER BY reservation_id, id"};

/// The page of reservations `filter` selects, one a row: id, status, expires_at, total, count.
pqxx::result reservation_page(pqxx::transaction_base &tx, const ReservationFilter &filter,
                              const PageRequest &page) {
    const auto &[customer, status] = filter;
    if (customer && status)
        return exec(tx, kPageOfCustomerWithStatus, *customer, *status, page.page_size,
                    page.offset());
    if (customer) return exec(tx, kPageOfCustomer, *customer, page.page_size, page.offset());
    if (status) return exec(tx, kPageWithStatus, *status, page.page_size, page.offset());
    return exec(tx, kPageAll, page.page_size, page.offset());
}

/// The reservations of a page's rows, with their items (a second statement for all of them).
std::vector<Reservation> reservations_of(pqxx::transaction_base &tx, const pqxx::result &rows) {
    std::vector<Reservation> out;
    std::map<std::int64_t, std::size_t> index;
    Ids ids;
    for (const auto &row : rows) {
        Reservation r;
        r.id = row[0].as<std::int64_t>();
        r.status = row[1].c_str();
        r.expires_at = row[2].as<std::int64_t>();
        r.total = money_column(row[3]);
        index[r.id] = out.size();
        ids.push_back(r.id);
        out.push_back(std::move(r));
    }
    if (ids.empty()) return out;
    for (const auto &row : exec(tx, kItemsOfReservations, pg_array(ids)))
        out[index.at(row[0].as<std::int64_t>())].items.push_back(
            {row[1].as<std::int64_t>(), row[2].as<std::int64_t>(), money_column(row[3])});
    return out;
}

/// The count column that ends every page row; 0 for no rows (then only page 1 exists).
std::int64_t count_of(const pqxx::result &rows) {
    return rows.empty() ? 0 : rows[0][rows.columns() - 1].as<std::int64_t>();
}

/// GET /api/reservations/ — the admin sees every customer's (?customer= narrows), a customer
/// its own; both may filter by ?status=.
void list_reservations(const Ctx &ctx) {
    // Statements run one by one, each atomic: items never change once written, so a separate
    // statement for them cannot disagree with the page, and BEGIN/COMMIT would only add round
    // trips to a read.
    pqxx::nontransaction tx(ctx.db());
    std::optional<std::int64_t> own;
    if (ctx.raw().is_admin == 0) own = ctx.require_customer(tx).id;  // 401 before any 400
    const auto query = ctx.query();
    const ReservationFilter filter = parse_reservation_filter(query, own);
    const PageRequest page = parse_page_request(query);
    const auto rows = reservation_page(tx, filter, page);
    const auto reservations = reservations_of(tx, rows);
    tx.commit();
    reply_page(ctx, page, count_of(rows), reservations, write_reservation);
}

// The reservation row first, then its variant rows: the same order as the release job.
const Statement kLockReservation{
    "checkout.lock_reservation",
    "SELECT status, expires_at > now(), "
    "to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
    "FROM reservations WHERE id = $1 AND customer_id = $2 FOR UPDATE"};
const Statement kConsumeStock{
    "checkout.consume_stock",
    "UPDATE variants v SET stock = v.stock - g.q, reserved = v.reserved - g.q "
    "FROM (SELECT variant_id, sum(quantity)::integer AS q FROM reservation_items "
    "WHERE reservation_id = $1 GROUP BY variant_id) g WHERE v.id = g.variant_id"};
const Statement kSetStatus{"checkout.set_status",
                           "UPDATE reservations SET status = $2, updated_at = now() WHERE id = $1"};

/// What finishing a reservation does to its (locked) variant rows.
using Settle = void (*)(pqxx::work &tx, std::int64_t reservation_id);

/// Confirmed: the units leave stock and reserved alike.
void consume_stock(pqxx::work &tx, std::int64_t reservation_id) {
    exec(tx, kConsumeStock, reservation_id);
}
/// Cancelled: the units go back, as when a reservation expires.
void return_reserved(pqxx::work &tx, std::int64_t reservation_id) {
    give_back(tx, {reservation_id});
}

/// Moves the caller's ACTIVE, unexpired reservation to `status`, applying `settle` to its
/// variant rows; 409 when it is not ACTIVE or has expired (nothing changes then).
void finish(const Ctx &ctx, const char *status, Settle settle) {
    pqxx::work tx(ctx.db());
    const Customer customer = ctx.require_customer(tx);
    const auto id = ctx.id_param(0);
    const auto rows = exec(tx, kLockReservation, id, customer.id);
    if (rows.empty()) throw not_found();
    const std::string current = rows[0][0].c_str();
    if (current != "ACTIVE") throw conflict("The reservation is " + current + ", not ACTIVE.");
    if (!rows[0][1].as<bool>())
        throw conflict(std::string("The reservation expired at ") + rows[0][2].c_str() + ".");
    lock_variants_of(tx, {id});
    settle(tx, id);
    exec(tx, kSetStatus, id, status);
    const Reservation r = load_reservation(tx, id, customer.id);
    tx.commit();
    ctx.reply(200, render_reservation(r));
}

/// POST /api/reservations/{id}/confirm/
void confirm(const Ctx &ctx) { finish(ctx, "CONFIRMED", consume_stock); }
/// POST /api/reservations/{id}/cancel/
void cancel(const Ctx &ctx) { finish(ctx, "CANCELLED", return_reserved); }

// ---- the "metrics.checkout" service: lines for the host's /metrics ---------------------------

const Statement kReservationCounts{
    "checkout.reservation_counts",
    "SELECT count(*), count(*) FILTER (WHERE status = 'CONFIRMED'), "
    "count(*) FILTER (WHERE status = 'EXPIRED'), count(*) FILTER (WHERE status = 'CANCELLED') "
    "FROM reservations"};

/// Reservations by what became of them, counted in the database: that covers every host and
/// the reservation-release job (which expires most of them), and reservations are never
/// deleted, so the counts only grow. One scan of the table per scrape.
void serve_metrics(const Ctx &ctx) {
    pqxx::nontransaction tx(ctx.db());
    const auto row = exec(tx, kReservationCounts)[0];
    std::string out =
        "# HELP shopd_reservations_total Reservations by event, from the database (all hosts "
        "and the release job).\n# TYPE shopd_reservations_total counter\n";
    const char *const events[] = {"created", "confirmed", "expired", "cancelled"};
    for (int i = 0; i < 4; ++i)
        out.append("shopd_reservations_total{event=\"")
            .append(events[i])
            .append("\"} ")
            .append(row[i].c_str())
            .append("\n");
    ctx.reply(200, out);
}

const PluginDef kPlugin{"checkout",
                        "1.0.0",
                        {{"POST", "/api/cart/checkout/", checkout},
                         {"GET", "/api/reservations/", list_reservations},
                         {"GET", "/api/reservations/{id}/", get_reservation},
                         {"POST", "/api/reservations/{id}/confirm/", confirm},
                         {"POST", "/api/reservations/{id}/cancel/", cancel}},
                        {{"metrics.checkout", serve_metrics}},
                        {},         // services required
                        configure,  // checkout.reservation-ttl
                        nullptr};   // nothing to shut down

}  // namespace
}  // namespace shopd::checkout

SHOPD_PLUGIN(checkout, shopd::checkout::kPlugin)
