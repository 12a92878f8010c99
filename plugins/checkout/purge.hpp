// Purges of reservation-release: abandoned carts (with their lines) and old Idempotency-Keys, so
// neither table grows without bound. Only the job runs these; the checkout plugin does not link
// them.
#pragma once

#include <pqxx/pqxx>

#include <cstddef>
#include <cstdint>

namespace shopd::checkout {

/// How many carts have updated_at older than `ttl_seconds` (what a purge would delete now).
std::int64_t count_stale_carts(pqxx::transaction_base &tx, std::int64_t ttl_seconds);

/// Deletes up to `limit` carts untouched for `ttl_seconds`, with their lines; returns how many.
/// A cart another transaction holds (a cart write or a checkout in progress) is skipped, not
/// waited for.
std::size_t purge_stale_carts(pqxx::transaction_base &tx, std::int64_t ttl_seconds,
                              std::size_t limit);

/// How many Idempotency-Keys are older than `ttl_seconds`.
std::int64_t count_old_keys(pqxx::transaction_base &tx, std::int64_t ttl_seconds);

/// Deletes up to `limit` Idempotency-Keys older than `ttl_seconds`; returns how many. A key
/// older than that no longer replays: a checkout with it is a new request.
std::size_t purge_old_keys(pqxx::transaction_base &tx, std::int64_t ttl_seconds, std::size_t limit);

}  // namespace shopd::checkout
