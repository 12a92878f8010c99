// Unit tests: prepared statement naming survives a plugin generation that changes its SQL.
#include "shopd/sdk.hpp"

#include <cppunit/extensions/HelperMacros.h>

using shopd::Statement;

class StatementTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(StatementTest);
    CPPUNIT_TEST(sameSqlSameName);
    CPPUNIT_TEST(changedSqlGetsAnotherName);
    CPPUNIT_TEST_SUITE_END();

public:
    void sameSqlSameName() {
        const Statement a{"pricing.rules", "SELECT 1"};
        const Statement b{"pricing.rules", "SELECT 1"};
        CPPUNIT_ASSERT_EQUAL(a.prepared_name, b.prepared_name);
        CPPUNIT_ASSERT(a.prepared_name.rfind("pricing.rules.", 0) == 0);
    }

    void changedSqlGetsAnotherName() {
        const Statement v1{"pricing.rules", "SELECT 1"};
        const Statement v2{"pricing.rules", "SELECT 2"};
        CPPUNIT_ASSERT(v1.prepared_name != v2.prepared_name);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(StatementTest);
