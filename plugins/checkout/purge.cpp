// Purges of reservation-release (see purge.hpp).
#include "purge.hpp"

#include "checkout_domain.hpp"

#include "shopd/sdk.hpp"

#include <string>
#include <vector>

namespace shopd::checkout {
namespace {

// `now()` is the transaction's start: every statement of one batch agrees on the cutoff.
#define CHECKOUT_OLDER_THAN(COLUMN, TTL) COLUMN " < now() - " TTL "::bigint * interval '1 second'"

const Statement kCountStaleCarts{
    "checkout.count_stale_carts",
    "SELECT count(*) FROM carts WHERE " CHECKOUT_OLDER_THAN("updated_at", "$1")};
// Every cart writer locks the cart row first (the cart plugin's upsert, which also sets
// updated_at = now(); checkout's FOR UPDATE), so SKIP LOCKED passes over any cart a request is
// using. The age is checked again under the lock: in READ COMMITTED, FOR UPDATE re-evaluates the
// WHERE clause on the newest version of a row that changed after the statement's snapshot, so
// a cart written (and committed) in the meantime is not returned.
const Statement kLockStaleCarts{
    "checkout.lock_stale_carts",
    "SELECT id FROM carts WHERE " CHECKOUT_OLDER_THAN(
        "updated_at", "$1") " ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED"};
// cart_items is the only table that references carts. Its FK cascades too, but the lines are
// deleted explicitly so the purge does not depend on that.
const Statement kDeleteCartLines{"checkout.delete_cart_lines",
                                 "DELETE FROM cart_items WHERE cart_id = ANY($1::bigint[])"};
const Statement kDeleteCarts{"checkout.delete_carts",
                             "DELETE FROM carts WHERE id = ANY($1::bigint[])"};

const Statement kCountOldKeys{
    "checkout.count_old_keys",
    "SELECT count(*) FROM idempotency_keys WHERE " CHECKOUT_OLDER_THAN("created_at", "$1")};
// Nothing references idempotency_keys. SKIP LOCKED keeps two copies of the job from queueing
// behind each other's batches.
const Statement kDeleteOldKeys{
    "checkout.delete_old_keys",
    "DELETE FROM idempotency_keys WHERE (customer_id, key) IN (SELECT customer_id, key "
    "FROM idempotency_keys WHERE " CHECKOUT_OLDER_THAN(
        "created_at", "$1") " ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)"};

}  // namespace

std::int64_t count_stale_carts(pqxx::transaction_base &tx, std::int64_t ttl_seconds) {
    return exec(tx, kCountStaleCarts, ttl_seconds)[0][0].as<std::int64_t>();
}

std::size_t purge_stale_carts(pqxx::transaction_base &tx, std::int64_t ttl_seconds,
                              std::size_t limit) {
    std::vector<std::int64_t> ids;
    for (const auto &row : exec(tx, kLockStaleCarts, ttl_seconds, static_cast<std::int64_t>(limit)))
        ids.push_back(row[0].as<std::int64_t>());
    if (ids.empty()) return 0;
    const std::string array = pg_array(ids);
    exec(tx, kDeleteCartLines, array);
    return exec(tx, kDeleteCarts, array).affected_rows();
}

std::int64_t count_old_keys(pqxx::transaction_base &tx, std::int64_t ttl_seconds) {
    return exec(tx, kCountOldKeys, ttl_seconds)[0][0].as<std::int64_t>();
}

std::size_t purge_old_keys(pqxx::transaction_base &tx, std::int64_t ttl_seconds,
                           std::size_t limit) {
    return exec(tx, kDeleteOldKeys, ttl_seconds, static_cast<std::int64_t>(limit)).affected_rows();
}

}  // namespace shopd::checkout
