// checkout plugin: pure domain functions (see checkout_domain.hpp).
#include "checkout_domain.hpp"

#include "shopd/sdk.hpp"

#include <algorithm>
#include <ctime>
#include <utility>

namespace shopd::checkout {

Cents total_of(const std::vector<Line> &lines) {
    Cents total = 0;
    for (const auto &l : lines) total += l.line_total();
    return total;
}

std::vector<Line> sorted_by_variant(std::vector<Line> lines) {
    std::sort(lines.begin(), lines.end(),
              [](const Line &a, const Line &b) { return a.variant_id < b.variant_id; });
    return lines;
}

std::string canonical_cart(const std::vector<Line> &lines) {
    std::string out;
    for (const auto &l : sorted_by_variant(lines)) {
        if (!out.empty()) out += ';';
        out += std::to_string(l.variant_id) + ':' + std::to_string(l.quantity) + ':' +
               format_money(l.unit_price);
    }
    return out;
}

std::string request_hash(const std::vector<Line> &lines) {
    return sha256_hex(canonical_cart(lines));
}

std::vector<Shortage> shortages(const std::vector<Line> &lines, const Availability &available) {
    std::vector<Shortage> out;
    for (const auto &l : sorted_by_variant(lines)) {
        const auto it = available.find(l.variant_id);
        const std::int64_t have = it == available.end() ? 0 : it->second;
        if (l.quantity > have) out.push_back({l.variant_id, l.quantity, have < 0 ? 0 : have});
    }
    return out;
}

std::string shortage_message(const Shortage &s) {
    return "Insufficient stock for variant " + std::to_string(s.variant_id) + " (requested " +
           std::to_string(s.requested) + ", available " + std::to_string(s.available) + ").";
}

ClientError out_of_stock(const std::vector<Shortage> &short_lines) {
    std::vector<std::string> messages;
    messages.reserve(short_lines.size());
    for (const auto &s : short_lines) messages.push_back(shortage_message(s));
    return ClientError(400, status_title(400), "Insufficient stock; nothing was reserved.",
                       {{"items", messages}})
        .with_member("variant_ids", variant_ids_of(short_lines));
}

std::string pg_array(const std::vector<std::int64_t> &values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i)
        out += (i ? "," : "") + std::to_string(values[i]);
    return out + "}";
}

std::string pg_money_array(const std::vector<Cents> &values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + format_money(values[i]);
    return out + "}";
}

std::string format_utc(std::int64_t epoch_seconds) {
    const std::time_t t = static_cast<std::time_t>(epoch_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    (void)std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string render_reservation(const Reservation &r) {
    return render_json([&](JsonWriter &w) { write_reservation(w, r); });
}

void write_reservation(JsonWriter &w, const Reservation &r) {
    w.StartObject();
    put_key(w, "id");
    w.Int64(r.id);
    put_key(w, "status");
    put_string(w, r.status);
    put_key(w, "expires_at");
    put_string(w, format_utc(r.expires_at));
    put_key(w, "items");
    w.StartArray();
    for (const auto &l : r.items) {
        w.StartObject();
        put_key(w, "variant_id");
        w.Int64(l.variant_id);
        put_key(w, "quantity");
        w.Int64(l.quantity);
        put_key(w, "unit_price");
        put_money(w, l.unit_price);
        put_key(w, "line_total");
        put_money(w, l.line_total());
        w.EndObject();
    }
    w.EndArray();
    put_key(w, "total");
    put_money(w, r.total);
    w.EndObject();
}

namespace {
/// The statuses reservations.status allows (sql/001_schema.sql), in lifecycle order.
constexpr const char *kStatuses[] = {"ACTIVE", "CONFIRMED", "CANCELLED", "EXPIRED"};
}  // namespace

ReservationFilter parse_reservation_filter(const Query &query,
                                           std::optional<std::int64_t> own_customer) {
    ReservationFilter filter;
    FieldErrors errors;
    if (own_customer) {
        filter.customer = own_customer;
    } else if (const auto customer = query.get("customer"); customer && !customer->empty()) {
        filter.customer = parse_id(*customer);
        if (!filter.customer)
            errors["customer"].push_back("A valid positive integer id is required.");
    }
    if (const auto status = query.get("status"); status && !status->empty()) {
        for (const char *known : kStatuses)
            if (*status == known) filter.status = *status;
        if (!filter.status) {
            std::string choices;
            for (const char *known : kStatuses) choices += std::string(" ") + known;
            errors["status"].push_back("Not a valid choice; expected one of:" + choices + ".");
        }
    }
    if (!errors.empty()) throw validation_failed(std::move(errors));
    return filter;
}

}  // namespace shopd::checkout
