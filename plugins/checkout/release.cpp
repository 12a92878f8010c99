// Release of expired reservations (see release.hpp).
#include "release.hpp"

#include "checkout_domain.hpp"

#include "shopd/sdk.hpp"

#include <map>

namespace shopd::checkout {
namespace {

// `now()` is the transaction's start time: every statement of one batch agrees on "expired".
const Statement kCountExpired{
    "checkout.count_expired",
    "SELECT count(*) FROM reservations WHERE status = 'ACTIVE' AND expires_at < now()"};
// LockRows runs above the Sort, so rows are locked in id order.
const Statement kLockVariantsOf{
    "checkout.lock_variants_of",
    "SELECT id FROM variants WHERE id IN (SELECT variant_id FROM reservation_items "
    "WHERE reservation_id = ANY($1::bigint[])) ORDER BY id FOR UPDATE"};
const Statement kLockExpiredHolding{
    "checkout.lock_expired_holding",
    "SELECT r.id FROM reservations r WHERE r.status = 'ACTIVE' AND r.expires_at < now() "
    "AND EXISTS (SELECT 1 FROM reservation_items ri WHERE ri.reservation_id = r.id "
    "AND ri.variant_id = ANY($1::bigint[])) ORDER BY r.id FOR UPDATE SKIP LOCKED"};
const Statement kItemVariants{"checkout.item_variants",
                              "SELECT reservation_id, variant_id FROM reservation_items "
                              "WHERE reservation_id = ANY($1::bigint[])"};
const Statement kTryLockVariants{
    "checkout.try_lock_variants",
    "SELECT id FROM variants WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE SKIP LOCKED"};
const Statement kMarkExpired{"checkout.mark_expired",
                             "UPDATE reservations SET status = 'EXPIRED', updated_at = now() "
                             "WHERE id = ANY($1::bigint[]) AND status = 'ACTIVE' RETURNING id"};
const Statement kGiveBack{
    "checkout.give_back",
    "UPDATE variants v SET reserved = v.reserved - g.q "
    "FROM (SELECT variant_id, sum(quantity)::integer AS q FROM reservation_items "
    "WHERE reservation_id = ANY($1::bigint[]) GROUP BY variant_id) g WHERE v.id = g.variant_id"};
const Statement kLogExpiry{
    "checkout.log_expiry",
    "INSERT INTO expiry_log (reservation_id, released_by, item_count, unit_count) "
    "SELECT r.id, $2, count(ri.id), coalesce(sum(ri.quantity), 0) "
    "FROM unnest($1::bigint[]) AS r(id) LEFT JOIN reservation_items ri ON ri.reservation_id = r.id "
    "GROUP BY r.id"};

// The job's batch in one statement (issue 14: 100k in < 2 s): locks up to $1 expired ACTIVE
// reservations, oldest first, skipping rows in use (SKIP LOCKED: a confirm, a checkout, another
// copy of the job); locks their variant rows in id order (waiting, like every writer of them);
// marks them EXPIRED, gives their quantities back and writes one expiry_log row each ($2: who).
// FOR UPDATE returns only rows still ACTIVE, so `batch` is exactly what gets released. The
// one-time filter on `locked` makes the give-back wait until every variant row is locked, in
// order; the UPDATE then applies to each row's latest version. ANY(ARRAY(...)): the planner
// cannot size a CTE, and joined to one it scanned every reservation; this is an index lookup
// per id. Returns how many it released.
const Statement kReleaseExpiredBatch{
    "checkout.release_expired_batch",
    "WITH batch AS (SELECT id FROM reservations WHERE status = 'ACTIVE' AND expires_at < now() "
    "ORDER BY expires_at, id LIMIT $1 FOR UPDATE SKIP LOCKED), "
    "items AS (SELECT reservation_id, variant_id, quantity FROM reservation_items "
    "WHERE reservation_id IN (SELECT id FROM batch)), "
    "locked AS (SELECT id FROM variants WHERE id IN (SELECT variant_id FROM items) "
    "ORDER BY id FOR UPDATE), "
    "marked AS (UPDATE reservations SET status = 'EXPIRED', updated_at = now() "
    "WHERE id = ANY (ARRAY(SELECT id FROM batch))), "
    "given AS (UPDATE variants v SET reserved = v.reserved - g.q "
    "FROM (SELECT variant_id, sum(quantity)::integer AS q FROM items GROUP BY variant_id) g "
    "WHERE v.id = g.variant_id AND (SELECT count(*) FROM locked) >= 0), "
    "logged AS (INSERT INTO expiry_log (reservation_id, released_by, item_count, unit_count) "
    "SELECT b.id, $2, count(i.reservation_id), coalesce(sum(i.quantity), 0) "
    "FROM batch b LEFT JOIN items i ON i.reservation_id = b.id GROUP BY b.id) "
    "SELECT count(*) FROM batch"};

Ids ids_of(const pqxx::result &rows) {
    Ids out;
    for (const auto &row : rows) out.push_back(row[0].as<std::int64_t>());
    return out;
}

}  // namespace

std::size_t release_expired_batch(pqxx::transaction_base &tx, std::size_t limit,
                                  const char *released_by) {
    return exec(tx, kReleaseExpiredBatch, static_cast<std::int64_t>(limit), released_by)[0][0]
        .as<std::size_t>();
}

std::int64_t count_expired(pqxx::transaction_base &tx) {
    return exec(tx, kCountExpired)[0][0].as<std::int64_t>();
}

void lock_variants_of(pqxx::transaction_base &tx, const Ids &reservation_ids) {
    if (!reservation_ids.empty()) exec(tx, kLockVariantsOf, pg_array(reservation_ids));
}

Ids lock_expired_holding(pqxx::transaction_base &tx, const Ids &variant_ids,
                         const std::set<std::int64_t> &locked_variants) {
    const Ids candidates = ids_of(exec(tx, kLockExpiredHolding, pg_array(variant_ids)));
    if (candidates.empty()) return {};
    std::map<std::int64_t, Ids> variants_of;
    std::set<std::int64_t> extra;
    for (const auto &row : exec(tx, kItemVariants, pg_array(candidates))) {
        const auto reservation = row[0].as<std::int64_t>();
        const auto variant = row[1].as<std::int64_t>();
        variants_of[reservation].push_back(variant);
        if (!locked_variants.count(variant)) extra.insert(variant);
    }
    std::set<std::int64_t> held = locked_variants;
    if (!extra.empty()) {
        for (const auto id :
             ids_of(exec(tx, kTryLockVariants, pg_array(Ids(extra.begin(), extra.end())))))
            held.insert(id);
    }
    Ids releasable;
    for (const auto id : candidates) {
        bool all_held = true;
        for (const auto v : variants_of[id]) all_held = all_held && held.count(v) > 0;
        if (all_held) releasable.push_back(id);
    }
    return releasable;
}

void give_back(pqxx::transaction_base &tx, const Ids &reservation_ids) {
    exec(tx, kGiveBack, pg_array(reservation_ids));
}

std::size_t release_locked(pqxx::transaction_base &tx, const Ids &reservation_ids,
                           const char *released_by) {
    if (reservation_ids.empty()) return 0;
    const Ids released = ids_of(exec(tx, kMarkExpired, pg_array(reservation_ids)));
    if (released.empty()) return 0;
    give_back(tx, released);
    exec(tx, kLogExpiry, pg_array(released), released_by);
    return released.size();
}

}  // namespace shopd::checkout
