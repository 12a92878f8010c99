// checkout plugin: turns the customer's cart into a reservation (stock held for a TTL) in one
// transaction, with Idempotency-Key support, and lets the customer read, confirm or cancel it;
// lists reservations (a customer its own, the admin everyone's).
#include "checkout_domain.hpp"
#include "release.hpp"

#include "shopd/plugin_def.hpp"

#include <map>
#include <optional>
#include <set>
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

const Statement kReservation{"checkout.reservation",
                             "SELECT status, floor(extract(epoch FROM expires_at))::bigint, total "
                             "FROM reservations WHERE id = $1 AND customer_id = $2"};
const Statement kReservationItems{"checkout.reservation_items",
                                  "SELECT variant_id, quantity, unit_price FROM reservation_items "
                                  "WHERE reservation_id = $1 ORDER BY id"};

/// The caller's reservation `id`; 404 when there is none (another customer's included).
Reservation load_reservation(pqxx::work &tx, std::int64_t id, std::int64_t customer_id) {
    const auto rows = exec(tx, kReservation, id, customer_id);
    if (rows.empty()) throw not_found();
    Reservation r;
    r.id = id;
    r.status = rows[0][0].c_str();
    r.expires_at = rows[0][1].as<std::int64_t>();
    r.total = money_column(rows[0][2]);
    r.items = lines_of(exec(tx, kReservationItems, id));
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
const Statement kTryKeyLock{
    "checkout.try_key_lock",
    "SELECT pg_try_advisory_xact_lock(hashtextextended($1::bigint::text || ':' || $2, 0))"};
const Statement kFindKey{"checkout.find_key",
                         "SELECT request_hash, reservation_id FROM idempotency_keys "
                         "WHERE customer_id = $1 AND key = $2 AND reservation_id IS NOT NULL"};
const Statement kStoreKey{
    "checkout.store_key",
    "INSERT INTO idempotency_keys (customer_id, key, request_hash, reservation_id) "
    "VALUES ($1, $2, $3, $4)"};

// The cart row lock orders us after the cart plugin's writers, so the lines cannot change
// between reading and emptying them.
const Statement kLockCart{"checkout.lock_cart",
                          "SELECT id FROM carts WHERE customer_id = $1 FOR UPDATE"};
const Statement kCartLines{
    "checkout.cart_lines",
    "SELECT variant_id, quantity, unit_price FROM cart_items WHERE cart_id = $1 ORDER BY variant_id"};
const Statement kEmptyCart{"checkout.empty_cart", "DELETE FROM cart_items WHERE cart_id = $1"};

// Every writer of variant rows (checkout, confirm, cancel, release) locks them in id order, so two
// checkouts sharing variants queue instead of deadlocking. LockRows runs above the Sort.
const Statement kLockVariants{
    "checkout.lock_variants",
    "SELECT id, stock - reserved FROM variants WHERE id = ANY($1::bigint[]) "
    "ORDER BY id FOR UPDATE"};
const Statement kAddReserved{
    "checkout.add_reserved",
    "UPDATE variants v SET reserved = v.reserved + x.q "
    "FROM unnest($1::bigint[], $2::integer[]) AS x(id, q) WHERE v.id = x.id"};
const Statement kInsertReservation{
    "checkout.insert_reservation",
    "INSERT INTO reservations (customer_id, expires_at, total) "
    "VALUES ($1, now() + $2::integer * interval '1 second', $3::numeric) "
    "RETURNING id, floor(extract(epoch FROM expires_at))::bigint"};
const Statement kInsertItems{
    "checkout.insert_items",
    "INSERT INTO reservation_items (reservation_id, variant_id, quantity, unit_price, line_total) "
    "SELECT $1, x.v, x.q, x.p, x.t "
    "FROM unnest($2::bigint[], $3::integer[], $4::numeric[], $5::numeric[]) "
    "WITH ORDINALITY AS x(v, q, p, t, n) ORDER BY x.n"};

/// An Idempotency-Key already used successfully by this customer.
struct StoredKey {
    std::string request_hash;
    std::int64_t reservation_id = 0;
};

/// Takes the key's advisory lock (409 when a request with the key is running) and returns its
/// stored outcome, if an earlier request with it succeeded.
std::optional<StoredKey> claim_key(pqxx::work &tx, std::int64_t customer_id,
                                   const std::string &key) {
    if (key.size() > kMaxKeyLength)
        throw bad_request("Idempotency-Key is longer than " + std::to_string(kMaxKeyLength) +
                          " characters.");
    if (!exec(tx, kTryKeyLock, customer_id, key)[0][0].as<bool>())
        throw conflict("A request with this Idempotency-Key is still in progress.")
            .with_header("Retry-After", "1");
    const auto rows = exec(tx, kFindKey, customer_id, key);
    if (rows.empty()) return std::nullopt;
    return StoredKey{rows[0][0].c_str(), rows[0][1].as<std::int64_t>()};
}

/// The customer's cart lines under the cart row lock (none when there is no cart yet), and its id.
std::pair<std::optional<std::int64_t>, std::vector<Line>> locked_cart(pqxx::work &tx,
                                                                      std::int64_t customer_id) {
    const auto cart = exec(tx, kLockCart, customer_id);
    if (cart.empty()) return {std::nullopt, {}};
    const auto cart_id = cart[0][0].as<std::int64_t>();
    return {cart_id, lines_of(exec(tx, kCartLines, cart_id))};
}

/// Locks the variant rows (array literal `ids`) in id order and reads what is available of each.
/// On rows this transaction holds already it returns at once, so it also serves to read them again.
Availability lock_availability(pqxx::work &tx, const std::string &ids) {
    Availability out;
    for (const auto &r : exec(tx, kLockVariants, ids))
        out[r[0].as<std::int64_t>()] = r[1].as<std::int64_t>();
    return out;
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

/// Locks the lines' variant rows in id order and checks stock; when short, releases the expired
/// reservations holding the short variants and checks again. Still short: throws out_of_stock(),
/// whose 400 leaves the handler only after the pqxx::work has rolled back (release included).
void lock_and_check_stock(pqxx::work &tx, const std::vector<Line> &lines) {
    const std::string ids = pg_array(variant_ids_of(lines));
    const Availability available = lock_availability(tx, ids);
    auto short_lines = shortages(lines, available);
    if (short_lines.empty()) return;
    if (release_expired_holding(tx, short_lines, available) > 0)
        short_lines = shortages(lines, lock_availability(tx, ids));
    if (!short_lines.empty()) throw out_of_stock(short_lines);
}

/// Adds the lines to `reserved` and stores the reservation with its items. Returns it as
/// stored, built from what we wrote rather than read back: two round trips fewer per checkout.
Reservation create_reservation(pqxx::work &tx, std::int64_t customer_id,
                               const std::vector<Line> &lines) {
    Ids quantities;
    std::vector<Cents> prices, totals;
    for (const auto &l : lines) {
        quantities.push_back(l.quantity);
        prices.push_back(l.unit_price);
        totals.push_back(l.line_total());
    }
    const std::string ids = pg_array(variant_ids_of(lines));
    exec(tx, kAddReserved, ids, pg_array(quantities));
    Reservation r;
    r.status = "ACTIVE";
    r.items = lines;
    r.total = total_of(lines);
    const auto row =
        exec(tx, kInsertReservation, customer_id, g_reservation_ttl, format_money(r.total))[0];
    r.id = row[0].as<std::int64_t>();
    r.expires_at = row[1].as<std::int64_t>();
    exec(tx, kInsertItems, r.id, ids, pg_array(quantities), pg_money_array(prices),
         pg_money_array(totals));
    return r;
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

/// POST /api/cart/checkout/
void checkout(const Ctx &ctx) {
    pqxx::work tx(ctx.db());
    const Customer customer = ctx.require_customer(tx);
    const std::string key = ctx.raw().idempotency_key;
    const auto stored = key.empty() ? std::nullopt : claim_key(tx, customer.id, key);
    const auto [cart_id, lines] = locked_cart(tx, customer.id);
    if (stored) return replay(ctx, tx, customer.id, *stored, lines);
    if (lines.empty()) throw validation_failed({{"items", {"The cart is empty."}}});
    lock_and_check_stock(tx, lines);
    const Reservation r = create_reservation(tx, customer.id, lines);
    exec(tx, kEmptyCart, *cart_id);
    if (!key.empty()) exec(tx, kStoreKey, customer.id, key, request_hash(lines), r.id);
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

const PluginDef kPlugin{"checkout",
                        "1.0.0",
                        {{"POST", "/api/cart/checkout/", checkout},
                         {"GET", "/api/reservations/", list_reservations},
                         {"GET", "/api/reservations/{id}/", get_reservation},
                         {"POST", "/api/reservations/{id}/confirm/", confirm},
                         {"POST", "/api/reservations/{id}/cancel/", cancel}},
                        {},         // services offered
                        {},         // services required
                        configure,  // checkout.reservation-ttl
                        nullptr};   // nothing to shut down

}  // namespace
}  // namespace shopd::checkout

SHOPD_PLUGIN(checkout, shopd::checkout::kPlugin)
