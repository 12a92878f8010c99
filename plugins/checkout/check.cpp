// reservation-release --check: see check.hpp.
#include "check.hpp"

namespace shopd::checkout {

std::size_t check_reserved(pqxx::connection &conn, std::ostream &out) {
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn);
    const pqxx::result off = tx.exec(
        "WITH held AS ("
        "  SELECT i.variant_id, sum(i.quantity)::bigint AS quantity"
        "  FROM reservation_items i JOIN reservations r ON r.id = i.reservation_id"
        "  WHERE r.status = 'ACTIVE' GROUP BY i.variant_id) "
        "SELECT v.id, v.sku, v.reserved, coalesce(h.quantity, 0), v.stock "
        "FROM variants v LEFT JOIN held h ON h.variant_id = v.id "
        "WHERE v.reserved <> coalesce(h.quantity, 0) OR v.reserved < 0 OR v.reserved > v.stock "
        "ORDER BY v.id");
    const long long checked = tx.exec1("SELECT count(*) FROM variants")[0].as<long long>();
    tx.commit();
    for (const auto &row : off)
        out << "mismatch: variant " << row[0].as<long long>() << " sku " << row[1].c_str()
            << " reserved " << row[2].as<long long>() << " expected " << row[3].as<long long>()
            << " stock " << row[4].as<long long>() << '\n';
    if (off.empty()) out << "ok: " << checked << " variants checked\n";
    out.flush();
    return off.size();
}

}  // namespace shopd::checkout
