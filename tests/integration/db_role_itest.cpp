// The role of $SHOPD_DATABASE_URL (the one the host, reservation-release and the tests use) is
// an ordinary login role: no superuser, no CREATEROLE, no CREATEDB (scripts/lib.sh
// pg_setup_app_role). It still reads the operator tables the contract names.
#include "http_client.hpp"

#include <cppunit/extensions/HelperMacros.h>
#include <pqxx/pqxx>

#include <string>

using namespace shopd::test;

class DbRoleITest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(DbRoleITest);
    CPPUNIT_TEST(role_is_not_privileged);
    CPPUNIT_TEST(role_reads_operator_tables);
    CPPUNIT_TEST_SUITE_END();

public:
    void role_is_not_privileged() {
        pqxx::connection c(env("SHOPD_DATABASE_URL"));
        pqxx::read_transaction tx(c);
        const auto row = tx.exec1(
            "SELECT current_user, rolsuper, rolcreaterole, rolcreatedb, "
            "rolreplication, rolbypassrls FROM pg_roles "
            "WHERE rolname = current_user");
        const std::string who = row[0].as<std::string>();
        CPPUNIT_ASSERT_MESSAGE(who + " is a superuser", !row[1].as<bool>());
        CPPUNIT_ASSERT_MESSAGE(who + " has CREATEROLE", !row[2].as<bool>());
        CPPUNIT_ASSERT_MESSAGE(who + " has CREATEDB", !row[3].as<bool>());
        CPPUNIT_ASSERT_MESSAGE(who + " has REPLICATION", !row[4].as<bool>());
        CPPUNIT_ASSERT_MESSAGE(who + " has BYPASSRLS", !row[5].as<bool>());
        // The server's own view of the session agrees.
        CPPUNIT_ASSERT_EQUAL(
            std::string("off"),
            tx.exec1("SELECT current_setting('is_superuser')")[0].as<std::string>());
    }

    void role_reads_operator_tables() {
        pqxx::connection c(env("SHOPD_DATABASE_URL"));
        pqxx::read_transaction tx(c);
        for (const char *table : {"reservations", "reservation_items", "variants", "expiry_log"}) {
            const std::string t(table);
            CPPUNIT_ASSERT_MESSAGE(
                "no SELECT on " + t,
                tx.exec1("SELECT has_table_privilege(current_user, '" + t + "', 'SELECT')")[0]
                    .as<bool>());
            tx.exec1("SELECT count(*) FROM " + t);  // throws on a missing privilege
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(DbRoleITest);
