// reservation-release --check: the invariant between variants.reserved and the reservations.
#pragma once

#include <pqxx/pqxx>

#include <cstddef>
#include <ostream>

namespace shopd::checkout {

/// Verifies, in one read-only REPEATABLE READ snapshot (a checkout or release changes
/// variants.reserved and its reservation in one transaction), that every variant's `reserved`
/// equals the sum of the quantities of its ACTIVE reservations' items and that
/// 0 <= reserved <= stock. Writes one line per variant that is off to `out`
/// ("mismatch: variant <id> sku <sku> reserved <r> expected <e> stock <s>"), or
/// "ok: N variants checked"; returns the number of variants that are off. Changes nothing.
std::size_t check_reserved(pqxx::connection &conn, std::ostream &out);

}  // namespace shopd::checkout
