// Unit tests of the checkout plugin's domain functions and of reservation-release's flags.
#include "checkout_domain.hpp"
#include "release_options.hpp"

#include "shopd/sdk.hpp"

#include <cppunit/extensions/HelperMacros.h>

using namespace shopd;
using namespace shopd::checkout;

namespace {
ParsedOptions parse(std::vector<const char *> args, const char *env_db = "postgresql://env/db") {
    args.insert(args.begin(), "reservation-release");
    return parse_release_options(static_cast<int>(args.size()), args.data(), env_db);
}
}  // namespace

class CheckoutTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CheckoutTest);
    CPPUNIT_TEST(hashIgnoresLineOrder);
    CPPUNIT_TEST(hashSeesEveryField);
    CPPUNIT_TEST(shortagesNameShortVariantsInIdOrder);
    CPPUNIT_TEST(outOfStockCarriesIds);
    CPPUNIT_TEST(variantIdsKeepOrder);
    CPPUNIT_TEST(totalsAreExact);
    CPPUNIT_TEST(formatsUtcTimes);
    CPPUNIT_TEST(rendersReservation);
    CPPUNIT_TEST(rendersPgArrays);
    CPPUNIT_TEST(batchesContinueOnlyWhenFull);
    CPPUNIT_TEST(releaseOptionsDefaults);
    CPPUNIT_TEST(releaseOptionsFlags);
    CPPUNIT_TEST(releaseOptionsErrors);
    CPPUNIT_TEST(releaseOptionsTtls);
    CPPUNIT_TEST(reservationFilterForCustomer);
    CPPUNIT_TEST(reservationFilterForAdmin);
    CPPUNIT_TEST(reservationFilterErrors);
    CPPUNIT_TEST_SUITE_END();

public:
    void hashIgnoresLineOrder() {
        const std::vector<Line> a{{7, 2, 1050}, {3, 1, 500}};
        const std::vector<Line> b{{3, 1, 500}, {7, 2, 1050}};
        CPPUNIT_ASSERT_EQUAL(std::string("3:1:5.00;7:2:10.50"), canonical_cart(a));
        CPPUNIT_ASSERT_EQUAL(request_hash(a), request_hash(b));
        CPPUNIT_ASSERT_EQUAL(sha256_hex("3:1:5.00;7:2:10.50"), request_hash(a));
        CPPUNIT_ASSERT_EQUAL(std::size_t(64), request_hash(a).size());
    }

    void hashSeesEveryField() {
        const std::vector<Line> base{{3, 1, 500}, {7, 2, 1050}};
        const auto h = request_hash(base);
        CPPUNIT_ASSERT(h != request_hash({{3, 1, 500}, {7, 3, 1050}}));  // quantity
        CPPUNIT_ASSERT(h != request_hash({{3, 1, 500}, {7, 2, 1051}}));  // price snapshot
        CPPUNIT_ASSERT(h != request_hash({{3, 1, 500}, {8, 2, 1050}}));  // variant
        CPPUNIT_ASSERT(h != request_hash({{3, 1, 500}}));                // a line fewer
        // The separators keep "1:23" and "12:3" apart.
        CPPUNIT_ASSERT(request_hash({{1, 23, 100}}) != request_hash({{12, 3, 100}}));
    }

    void shortagesNameShortVariantsInIdOrder() {
        const std::vector<Line> lines{{12, 5, 100}, {4, 2, 100}, {9, 1, 100}, {20, 3, 100}};
        const auto s = shortages(lines, {{4, 1}, {9, 1}, {12, 3}, {20, -2}});
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), s.size());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(4), s[0].variant_id);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(12), s[1].variant_id);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(20), s[2].variant_id);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), s[2].available);  // never reported negative
        CPPUNIT_ASSERT_EQUAL(
            std::string("Insufficient stock for variant 12 (requested 5, available 3)."),
            shortage_message(s[1]));
        CPPUNIT_ASSERT(shortages({{4, 1, 100}}, {{4, 1}}).empty());  // exactly enough
        CPPUNIT_ASSERT_EQUAL(std::size_t(1),
                             shortages({{5, 1, 100}}, {}).size());  // unknown variant
    }

    void outOfStockCarriesIds() {
        const ClientError e = out_of_stock({{4, 2, 1}, {12, 5, 3}});
        CPPUNIT_ASSERT_EQUAL(400, e.status);
        const auto body = problem_json(e.status, e.title, e.detail, e.errors, e.members);
        // The body clients have always received: problem fields, errors.items, then variant_ids.
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                "{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,"
                "\"detail\":\"Insufficient stock; nothing was reserved.\",\"errors\":{\"items\":["
                "\"Insufficient stock for variant 4 (requested 2, available 1).\","
                "\"Insufficient stock for variant 12 (requested 5, available 3).\"]},"
                "\"variant_ids\":[4,12]}"),
            body);
        rapidjson::Document d;
        d.Parse(body.c_str());
        CPPUNIT_ASSERT(!d.HasParseError());
        CPPUNIT_ASSERT_EQUAL(2u, d["errors"]["items"].Size());
        CPPUNIT_ASSERT_EQUAL(2u, d["variant_ids"].Size());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(12),
                             static_cast<std::int64_t>(d["variant_ids"][1].GetInt64()));
    }

    void variantIdsKeepOrder() {
        CPPUNIT_ASSERT(variant_ids_of(std::vector<Line>{}).empty());
        CPPUNIT_ASSERT(std::vector<std::int64_t>({7, 3}) ==
                       variant_ids_of(std::vector<Line>{{7, 2, 100}, {3, 1, 50}}));
        CPPUNIT_ASSERT(std::vector<std::int64_t>({4}) ==
                       variant_ids_of(std::vector<Shortage>{{4, 2, 1}}));
    }

    void totalsAreExact() {
        const std::vector<Line> lines{{1, 3, 33333}, {2, 10000, 1}, {3, 7, 42075}};
        CPPUNIT_ASSERT_EQUAL(Cents(99999), lines[0].line_total());
        CPPUNIT_ASSERT_EQUAL(Cents(99999 + 10000 + 294525), total_of(lines));
    }

    void formatsUtcTimes() {
        CPPUNIT_ASSERT_EQUAL(std::string("1970-01-01T00:00:00Z"), format_utc(0));
        CPPUNIT_ASSERT_EQUAL(std::string("2026-11-26T10:00:00Z"), format_utc(1795687200));
        CPPUNIT_ASSERT_EQUAL(std::string("2024-02-29T23:59:59Z"), format_utc(1709251199));
    }

    void rendersReservation() {
        Reservation r;
        r.id = 42;
        r.status = "ACTIVE";
        r.expires_at = 1795687200;
        r.items = {{3, 2, 1050}, {7, 1, 42075}};
        r.total = total_of(r.items);
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                "{\"id\":42,\"status\":\"ACTIVE\",\"expires_at\":\"2026-11-26T10:00:00Z\",\"items\":["
                "{\"variant_id\":3,\"quantity\":2,\"unit_price\":\"10.50\",\"line_total\":\"21.00\"},"
                "{\"variant_id\":7,\"quantity\":1,\"unit_price\":\"420.75\",\"line_total\":\"420.75\"}],"
                "\"total\":\"441.75\"}"),
            render_reservation(r));
    }

    void rendersPgArrays() {
        CPPUNIT_ASSERT_EQUAL(std::string("{}"), pg_array({}));
        CPPUNIT_ASSERT_EQUAL(std::string("{1,22,333}"), pg_array({1, 22, 333}));
        CPPUNIT_ASSERT_EQUAL(std::string("{10.00,0.05}"), pg_money_array({1000, 5}));
    }

    void batchesContinueOnlyWhenFull() {
        CPPUNIT_ASSERT(more_batches(500, 500));
        CPPUNIT_ASSERT(!more_batches(499, 500));
        CPPUNIT_ASSERT(!more_batches(0, 500));
        CPPUNIT_ASSERT(!more_batches(0, 0));
    }

    void releaseOptionsDefaults() {
        const auto p = parse({});
        CPPUNIT_ASSERT(p.run);
        CPPUNIT_ASSERT_EQUAL(std::string("postgresql://env/db"), p.options.db);
        CPPUNIT_ASSERT_EQUAL(std::size_t(10000), p.options.batch_size);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(604800), p.options.cart_ttl);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(86400), p.options.idempotency_ttl);
        CPPUNIT_ASSERT(!p.options.dry_run);
        CPPUNIT_ASSERT(!p.options.check);
        CPPUNIT_ASSERT(parse({"--check"}).options.check);
    }

    void releaseOptionsFlags() {
        const auto p = parse({"--db", "postgresql://flag/db", "--batch-size", "7", "--dry-run"});
        CPPUNIT_ASSERT(p.run);
        CPPUNIT_ASSERT_EQUAL(std::string("postgresql://flag/db"), p.options.db);
        CPPUNIT_ASSERT_EQUAL(std::size_t(7), p.options.batch_size);
        CPPUNIT_ASSERT(p.options.dry_run);
        const auto help = parse({"--help"}, nullptr);
        CPPUNIT_ASSERT(!help.run);
        CPPUNIT_ASSERT_EQUAL(0, help.exit_code);
        for (const char *flag :
             {"--batch-size", "--cart-ttl", "--idempotency-ttl", "--dry-run", "--check"})
            CPPUNIT_ASSERT_MESSAGE(flag, help.message.find(flag) != std::string::npos);
    }

    void releaseOptionsErrors() {
        for (const auto &args :
             std::vector<std::vector<const char *>>{{"--bogus"},
                                                    {"--batch-size", "0"},
                                                    {"--batch-size", "-5"},
                                                    {"--batch-size", "x"},
                                                    {"--batch-size", "100001"},
                                                    {"--db"},
                                                    {"stray"},
                                                    {"--cart-ttl", "-1"},
                                                    {"--cart-ttl", "1.5"},
                                                    {"--cart-ttl", "315360001"},
                                                    {"--cart-ttl"},
                                                    {"--idempotency-ttl", "-1"},
                                                    {"--idempotency-ttl", "x"},
                                                    {"--idempotency-ttl", "999999999999"}}) {
            const auto p = parse(args);
            CPPUNIT_ASSERT_MESSAGE(args[0], !p.run);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(args[0], 2, p.exit_code);
        }
        const auto no_db = parse({}, nullptr);
        CPPUNIT_ASSERT(!no_db.run);
        CPPUNIT_ASSERT_EQUAL(2, no_db.exit_code);
        CPPUNIT_ASSERT(parse({"--cart-ttl", "-1"}).message.find("--cart-ttl") != std::string::npos);
    }

    void releaseOptionsTtls() {
        const auto p = parse({"--cart-ttl", "3600", "--idempotency-ttl=60"});
        CPPUNIT_ASSERT(p.run);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(3600), p.options.cart_ttl);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(60), p.options.idempotency_ttl);
        // 0 turns a purge off; the largest accepted TTL is ten years.
        const auto off = parse({"--cart-ttl", "0", "--idempotency-ttl", "0"});
        CPPUNIT_ASSERT(off.run);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), off.options.cart_ttl);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), off.options.idempotency_ttl);
        const auto max = parse({"--cart-ttl", "315360000", "--idempotency-ttl", "315360000"});
        CPPUNIT_ASSERT(max.run);
        CPPUNIT_ASSERT_EQUAL(kMaxTtl, max.options.cart_ttl);
    }

    void reservationFilterForCustomer() {
        // A customer's list is its own whatever ?customer= says, even when it is not an id.
        for (const char *query : {"", "customer=99", "customer=abc", "customer=0"}) {
            const auto f = parse_reservation_filter(Query(query), 7);
            CPPUNIT_ASSERT_MESSAGE(query, f.customer == std::optional<std::int64_t>(7));
            CPPUNIT_ASSERT_MESSAGE(query, !f.status);
        }
        const auto f = parse_reservation_filter(Query("status=CANCELLED&page=2"), 7);
        CPPUNIT_ASSERT_EQUAL(std::string("CANCELLED"), f.status.value_or(""));
    }

    void reservationFilterForAdmin() {
        const auto all = parse_reservation_filter(Query(""), std::nullopt);
        CPPUNIT_ASSERT(!all.customer && !all.status);
        const auto empty = parse_reservation_filter(Query("customer=&status="), std::nullopt);
        CPPUNIT_ASSERT(!empty.customer && !empty.status);  // empty = no filter, as django-filter
        const auto both =
            parse_reservation_filter(Query("customer=12&status=EXPIRED"), std::nullopt);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(12), both.customer.value_or(0));
        CPPUNIT_ASSERT_EQUAL(std::string("EXPIRED"), both.status.value_or(""));
        for (const char *status : {"ACTIVE", "CONFIRMED", "CANCELLED", "EXPIRED"})
            CPPUNIT_ASSERT_EQUAL(
                std::string(status),
                parse_reservation_filter(Query(std::string("status=") + status), std::nullopt)
                    .status.value_or(""));
    }

    void reservationFilterErrors() {
        // Both mistakes are reported at once, each under its parameter's name.
        try {
            parse_reservation_filter(Query("customer=x&status=active"), std::nullopt);
            CPPUNIT_FAIL("no error");
        } catch (const ClientError &e) {
            CPPUNIT_ASSERT_EQUAL(400, e.status);
            CPPUNIT_ASSERT_EQUAL(std::size_t(2), e.errors.size());
            CPPUNIT_ASSERT_EQUAL(
                std::string(
                    "Not a valid choice; expected one of: ACTIVE CONFIRMED CANCELLED EXPIRED."),
                e.errors.at("status").at(0));
            CPPUNIT_ASSERT_EQUAL(std::string("A valid positive integer id is required."),
                                 e.errors.at("customer").at(0));
        }
        for (const char *query :
             {"customer=0", "customer=-1", "customer=1.0", "customer=99999999999999999999",
              "status=ACTIVE%20", "status=BOGUS"}) {
            bool threw = false;
            try {
                parse_reservation_filter(Query(query), std::nullopt);
            } catch (const ClientError &e) {
                threw = e.status == 400 && e.errors.size() == 1;
            }
            CPPUNIT_ASSERT_MESSAGE(query, threw);
        }
        // A customer still gets a 400 for a bad status.
        CPPUNIT_ASSERT_THROW(parse_reservation_filter(Query("status=x"), 7), ClientError);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CheckoutTest);
