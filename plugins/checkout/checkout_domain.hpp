// checkout plugin: domain functions shared with its unit tests (idempotency hash, stock
// shortages, reservation JSON, times) — no database here.
#pragma once

#include "shopd/http.hpp"
#include "shopd/json.hpp"
#include "shopd/money.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace shopd::checkout {

/// One cart line as checkout reserves it; the price is the cart's snapshot.
struct Line {
    std::int64_t variant_id = 0;
    std::int64_t quantity = 0;
    Cents unit_price = 0;
    Cents line_total() const { return unit_price * quantity; }
};

/// The variant ids of lines (or of shortages), in their order.
template <class WithVariant>
std::vector<std::int64_t> variant_ids_of(const std::vector<WithVariant> &items) {
    std::vector<std::int64_t> out;
    out.reserve(items.size());
    for (const auto &item : items) out.push_back(item.variant_id);
    return out;
}

/// Sum of the line totals.
Cents total_of(const std::vector<Line> &lines);

/// The lines sorted by variant id: the order rows are locked and reservation items are stored.
std::vector<Line> sorted_by_variant(std::vector<Line> lines);

/// Canonical text of a cart, independent of line order: "variant:quantity:unit_price" per line,
/// sorted by variant id, joined by ';'. Two carts are "the same request" iff these are equal.
std::string canonical_cart(const std::vector<Line> &lines);
/// SHA-256 (hex) of canonical_cart(): what idempotency_keys.request_hash stores.
std::string request_hash(const std::vector<Line> &lines);

/// A line the locked inventory cannot cover.
struct Shortage {
    std::int64_t variant_id = 0;
    std::int64_t requested = 0;
    std::int64_t available = 0;
};

/// stock - reserved per variant id, as read under the row locks.
using Availability = std::map<std::int64_t, std::int64_t>;

/// The lines whose quantity exceeds what is available, in variant-id order. A variant missing
/// from `available` counts as 0 available.
std::vector<Shortage> shortages(const std::vector<Line> &lines, const Availability &available);
/// "Insufficient stock for variant 12 (requested 5, available 3)."
std::string shortage_message(const Shortage &s);
/// The 400 a checkout short of stock answers: errors.items with one message per short line, and
/// the extension member "variant_ids" so clients need not parse messages.
ClientError out_of_stock(const std::vector<Shortage> &short_lines);

/// A PostgreSQL array literal of ids, "{1,2,3}": libpqxx 6.4 cannot bind a vector, so arrays
/// travel as text and the SQL casts them ($1::bigint[]).
std::string pg_array(const std::vector<std::int64_t> &values);
/// A numeric[] literal of amounts, "{10.00,3.50}".
std::string pg_money_array(const std::vector<Cents> &values);

/// RFC 3339 UTC with a 'Z' and whole seconds: 0 -> "1970-01-01T00:00:00Z".
std::string format_utc(std::int64_t epoch_seconds);

/// A reservation as the contract renders it.
struct Reservation {
    std::int64_t id = 0;
    std::string status;
    std::int64_t expires_at = 0;  ///< epoch seconds
    std::vector<Line> items;
    Cents total = 0;
};

/// {"id","status","expires_at","items":[{"variant_id","quantity","unit_price","line_total"}],"total"}
std::string render_reservation(const Reservation &r);
/// Writes one reservation as render_reservation() renders it (a list item has the same shape).
void write_reservation(JsonWriter &w, const Reservation &r);

/// What GET /api/reservations/ lists: the reservations of `customer` (all when unset) with
/// `status` (any when unset).
struct ReservationFilter {
    std::optional<std::int64_t> customer;
    std::optional<std::string> status;
};

/// Reads ?status= (ACTIVE, CONFIRMED, CANCELLED or EXPIRED) and, for the admin (`own_customer`
/// unset), ?customer=<id>; a bad value is a 400 naming the parameter. A customer's list is
/// always its own: for a customer ?customer= is ignored, as a DRF view whose get_queryset()
/// narrows to request.user ignores it. An empty value means no filter (django-filter's rule).
ReservationFilter parse_reservation_filter(const Query &query,
                                           std::optional<std::int64_t> own_customer);

/// Whether a release run should fetch another batch: a short batch means nothing is left that
/// this run can lock (what another copy holds is that copy's to release).
inline bool more_batches(std::size_t released_in_batch, std::size_t batch_size) {
    return batch_size > 0 && released_in_batch == batch_size;
}

}  // namespace shopd::checkout
