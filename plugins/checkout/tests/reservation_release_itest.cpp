// Integration tests of the reservation-release binary against the test stack's database: what it
// releases, what it leaves alone, --dry-run, two copies at once, and its exit codes.
#include "fixtures.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <future>

using namespace shopd::test;
using namespace shopd::test::co;

namespace {

struct Run {
    int exit_code = -1;
    std::string output;  ///< stdout and stderr
};

/// Runs the built binary with `args` (shell words) and captures its output and exit code.
Run run_release(const std::string &args) {
    const std::string command = std::string(RESERVATION_RELEASE_BIN) + " " + args + " 2>&1";
    Run run;
    FILE *pipe = popen(command.c_str(), "r");
    CPPUNIT_ASSERT_MESSAGE("popen failed: " + command, pipe != nullptr);
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) run.output.append(buf, n);
    const int status = pclose(pipe);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
}

std::string db_flag() { return "--db '" + env("SHOPD_DATABASE_URL") + "'"; }

/// N from "<prefix> N reservations"; fails the test if the output does not say it.
long long count_in(const Run &run, const std::string &prefix) {
    const auto at = run.output.find(prefix + " ");
    CPPUNIT_ASSERT_MESSAGE("no \"" + prefix + "\" in: " + run.output, at != std::string::npos);
    long long n = -1;
    CPPUNIT_ASSERT(std::sscanf(run.output.c_str() + at + prefix.size(), " %lld reservations", &n) ==
                   1);
    return n;
}

}  // namespace

class ReservationReleaseITest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ReservationReleaseITest);
    CPPUNIT_TEST(releasesOnlyExpiredActive);
    CPPUNIT_TEST(dryRunChangesNothing);
    CPPUNIT_TEST(twoCopiesReleaseEachOnce);
    CPPUNIT_TEST(helpAndBadFlags);
    CPPUNIT_TEST_SUITE_END();

public:
    void releasesOnlyExpiredActive() {
        Http http;
        pqxx::connection db(env("SHOPD_DATABASE_URL"));
        const auto token = new_customer(http);
        const auto v = new_variants(http, {{"0.00", 50}, {"0.00", 50}});
        add_to_cart(http, token, v[0], 2);
        add_to_cart(http, token, v[1], 3);
        const long long two_lines = reserve_cart(http, token);
        const long long one_line = reserve(http, token, v[0], 4);
        const long long live = reserve(http, token, v[0], 5);
        const long long cancelled = reserve(http, token, v[0], 6);
        const long long confirmed = reserve(http, token, v[1], 7);
        CPPUNIT_ASSERT_EQUAL(200L,
                             http.post(reservation_path(cancelled, "cancel"), "", token).status);
        CPPUNIT_ASSERT_EQUAL(200L,
                             http.post(reservation_path(confirmed, "confirm"), "", token).status);
        expire(db, {two_lines, one_line, cancelled, confirmed});
        CPPUNIT_ASSERT_EQUAL(11LL, stock_of(http, v[0]).reserved);  // 2 + 4 + 5

        const auto run = run_release(db_flag() + " --batch-size 1");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(run.output, 0, run.exit_code);
        CPPUNIT_ASSERT(count_in(run, "released") >= 2);

        assert_released(db, two_lines, "reservation-release", 2, 5);
        assert_released(db, one_line, "reservation-release", 1, 4);
        CPPUNIT_ASSERT_EQUAL(std::string("ACTIVE"), db_status(db, live));
        CPPUNIT_ASSERT_EQUAL(std::string("CANCELLED"), db_status(db, cancelled));
        CPPUNIT_ASSERT_EQUAL(std::string("CONFIRMED"), db_status(db, confirmed));
        CPPUNIT_ASSERT_EQUAL(
            0LL, log_rows(db, live) + log_rows(db, cancelled) + log_rows(db, confirmed));

        const auto s0 = stock_of(http, v[0]), s1 = stock_of(http, v[1]);
        CPPUNIT_ASSERT_EQUAL(5LL, s0.reserved);  // only the live reservation
        CPPUNIT_ASSERT_EQUAL(50LL, s0.stock);
        CPPUNIT_ASSERT_EQUAL(0LL, s1.reserved);
        CPPUNIT_ASSERT_EQUAL(43LL, s1.stock);  // the confirmed 7 stay sold

        // Nothing left of ours: a second run releases none of them again.
        CPPUNIT_ASSERT_EQUAL(0, run_release(db_flag()).exit_code);
        assert_released(db, two_lines, "reservation-release", 2, 5);
        CPPUNIT_ASSERT_EQUAL(5LL, stock_of(http, v[0]).reserved);
    }

    void dryRunChangesNothing() {
        Http http;
        pqxx::connection db(env("SHOPD_DATABASE_URL"));
        const auto token = new_customer(http);
        const auto v = new_variants(http, {{"0.00", 20}});
        const long long a = reserve(http, token, v[0], 2);
        const long long b = reserve(http, token, v[0], 3);
        expire(db, {a, b});
        const auto run = run_release(db_flag() + " --dry-run");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(run.output, 0, run.exit_code);
        CPPUNIT_ASSERT(count_in(run, "would release") >= 2);
        CPPUNIT_ASSERT_EQUAL(std::string("ACTIVE"), db_status(db, a));
        CPPUNIT_ASSERT_EQUAL(std::string("ACTIVE"), db_status(db, b));
        CPPUNIT_ASSERT_EQUAL(0LL, log_rows(db, a) + log_rows(db, b));
        CPPUNIT_ASSERT_EQUAL(5LL, stock_of(http, v[0]).reserved);
        // Leave nothing expired behind for other tests' counts.
        CPPUNIT_ASSERT_EQUAL(0, run_release(db_flag()).exit_code);
        CPPUNIT_ASSERT_EQUAL(0LL, stock_of(http, v[0]).reserved);
    }

    void twoCopiesReleaseEachOnce() {
        constexpr int kReservations = 40;
        Http http;
        pqxx::connection db(env("SHOPD_DATABASE_URL"));
        const auto token = new_customer(http);
        const auto v = new_variants(http, {{"0.00", 100}, {"0.00", 100}});
        std::vector<long long> ids;
        for (int i = 0; i < kReservations; ++i) {
            add_to_cart(http, token, v[i % 2], 1);
            add_to_cart(http, token, v[(i + 1) % 2], 1);
            ids.push_back(reserve_cart(http, token));
        }
        expire(db, ids);
        const std::string args = db_flag() + " --batch-size 3";
        auto first = std::async(std::launch::async, [&] { return run_release(args); });
        auto second = std::async(std::launch::async, [&] { return run_release(args); });
        const Run r1 = first.get(), r2 = second.get();
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r1.output, 0, r1.exit_code);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r2.output, 0, r2.exit_code);
        CPPUNIT_ASSERT(count_in(r1, "released") + count_in(r2, "released") >= kReservations);
        for (const auto id : ids) assert_released(db, id, "reservation-release", 2, 2);
        CPPUNIT_ASSERT_EQUAL(0LL, stock_of(http, v[0]).reserved);
        CPPUNIT_ASSERT_EQUAL(0LL, stock_of(http, v[1]).reserved);
    }

    void helpAndBadFlags() {
        const auto help = run_release("--help");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(help.output, 0, help.exit_code);
        CPPUNIT_ASSERT(help.output.find("--dry-run") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(2, run_release("--no-such-flag").exit_code);
        CPPUNIT_ASSERT_EQUAL(2, run_release(db_flag() + " --batch-size 0").exit_code);
        const auto down = run_release("--db 'postgresql://127.0.0.1:1/nowhere?connect_timeout=2'");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(down.output, 1, down.exit_code);
        CPPUNIT_ASSERT(down.output.find("reservation-release") != std::string::npos);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ReservationReleaseITest);
