// Release of expired reservations: the SQL shared by the reservation-release job and by a
// checkout that is short of stock (both mark EXPIRED, give quantities back, log each release);
// a cancel gives quantities back the same way.
#pragma once

#include <pqxx/pqxx>

#include <cstdint>
#include <set>
#include <vector>

namespace shopd::checkout {

using Ids = std::vector<std::int64_t>;

/// Who released a reservation, as expiry_log.released_by records it.
constexpr const char *kReleasedByJob = "reservation-release";
constexpr const char *kReleasedByCheckout = "checkout";

/// How many ACTIVE reservations are past expires_at (what a run would release now).
std::int64_t count_expired(pqxx::transaction_base &tx);

/// The job's batch in one statement: locks up to `limit` ACTIVE reservations past expires_at,
/// oldest first, skipping rows another transaction holds, then their variant rows in variant-id
/// order, and releases them as release_locked() does. Returns how many it released.
std::size_t release_expired_batch(pqxx::transaction_base &tx, std::size_t limit,
                                  const char *released_by);

/// Locks the variant rows the given reservations hold, in variant-id order (waits for them: every
/// writer takes variant rows in that order, so the waits cannot form a cycle).
void lock_variants_of(pqxx::transaction_base &tx, const Ids &reservation_ids);

/// For a checkout short of stock on `variant_ids`, whose rows it already holds: locks the ACTIVE,
/// expired reservations holding any of them, plus the other variant rows those reservations
/// hold, all without waiting — the checkout already holds rows, so waiting out of order could
/// deadlock. Returns the reservations whose every variant row is now locked by this transaction
/// (the others are left to the job).
Ids lock_expired_holding(pqxx::transaction_base &tx, const Ids &variant_ids,
                         const std::set<std::int64_t> &locked_variants);

/// Gives the reservations' quantities back to their variants (reserved -= quantity per item), as
/// a release or a cancel does. The caller holds the variant rows (lock_variants_of).
void give_back(pqxx::transaction_base &tx, const Ids &reservation_ids);

/// Releases reservations this transaction has locked (and whose variant rows it holds): status
/// EXPIRED, reserved -= quantity per item, one expiry_log row each. Returns how many it released
/// (a reservation no longer ACTIVE is skipped).
std::size_t release_locked(pqxx::transaction_base &tx, const Ids &reservation_ids,
                           const char *released_by);

}  // namespace shopd::checkout
