// Unit tests: exact money parsing, formatting and half-up percentage discounts.
#include "shopd/money.hpp"

#include <cppunit/extensions/HelperMacros.h>

using namespace shopd;

class MoneyTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MoneyTest);
    CPPUNIT_TEST(parsesWholeAndDecimalAmounts);
    CPPUNIT_TEST(rejectsMalformedAmounts);
    CPPUNIT_TEST(formatsWithTwoDecimals);
    CPPUNIT_TEST(parsesAndFormatsPercent);
    CPPUNIT_TEST(roundsHalfUpToTheCent);
    CPPUNIT_TEST(largeAmountsDoNotOverflow);
    CPPUNIT_TEST_SUITE_END();

public:
    void parsesWholeAndDecimalAmounts() {
        CPPUNIT_ASSERT_EQUAL(Cents(50000), *parse_money("500"));
        CPPUNIT_ASSERT_EQUAL(Cents(50050), *parse_money("500.5"));
        CPPUNIT_ASSERT_EQUAL(Cents(42075), *parse_money("420.75"));
        CPPUNIT_ASSERT_EQUAL(Cents(-325), *parse_money("-3.25"));
        CPPUNIT_ASSERT_EQUAL(Cents(0), *parse_money("0.00"));
        CPPUNIT_ASSERT_EQUAL(kMaxNumeric12_2, *parse_money("9999999999.99"));
    }

    void rejectsMalformedAmounts() {
        for (const char *bad : {"", "-", ".5", "5.", "1.234", "1e3", "abc", "1,00", " 1",
                                "12345678901", "0x10", "--1"})
            CPPUNIT_ASSERT_MESSAGE(bad, !parse_money(bad));
    }

    void formatsWithTwoDecimals() {
        CPPUNIT_ASSERT_EQUAL(std::string("420.75"), format_money(42075));
        CPPUNIT_ASSERT_EQUAL(std::string("0.05"), format_money(5));
        CPPUNIT_ASSERT_EQUAL(std::string("0.00"), format_money(0));
        CPPUNIT_ASSERT_EQUAL(std::string("-3.25"), format_money(-325));
        CPPUNIT_ASSERT_EQUAL(std::string("-0.01"), format_money(-1));
        CPPUNIT_ASSERT_EQUAL(std::string("4207.50"), format_money(420750));
    }

    void parsesAndFormatsPercent() {
        CPPUNIT_ASSERT_EQUAL(BasisPoints(1500), *parse_percent("15"));
        CPPUNIT_ASSERT_EQUAL(BasisPoints(1250), *parse_percent("12.5"));
        CPPUNIT_ASSERT_EQUAL(BasisPoints(10000), *parse_percent("100"));
        CPPUNIT_ASSERT_EQUAL(BasisPoints(0), *parse_percent("0"));
        for (const char *bad : {"100.01", "-1", "101", "1.001", "x", ""})
            CPPUNIT_ASSERT_MESSAGE(bad, !parse_percent(bad));
        CPPUNIT_ASSERT_EQUAL(std::string("15"), format_percent(1500));
        CPPUNIT_ASSERT_EQUAL(std::string("12.5"), format_percent(1250));
        CPPUNIT_ASSERT_EQUAL(std::string("0.05"), format_percent(5));
    }

    void roundsHalfUpToTheCent() {
        CPPUNIT_ASSERT_EQUAL(Cents(49500), apply_percent_off(55000, 1000));  // 550.00 - 10%
        CPPUNIT_ASSERT_EQUAL(Cents(42075), apply_percent_off(49500, 1500));  // seed example
        CPPUNIT_ASSERT_EQUAL(Cents(5), apply_percent_off(5, 1000));          // 0.045 -> 0.05
        CPPUNIT_ASSERT_EQUAL(Cents(4), apply_percent_off(5, 2000));          // 0.04 exactly
        CPPUNIT_ASSERT_EQUAL(Cents(58), apply_percent_off(115, 5000));       // 0.575 -> 0.58
        CPPUNIT_ASSERT_EQUAL(Cents(12345), apply_percent_off(12345, 0));
        CPPUNIT_ASSERT_EQUAL(Cents(0), apply_percent_off(12345, 10000));
        CPPUNIT_ASSERT_EQUAL(Cents(-5), apply_percent_off(-5, 1000));  // symmetric for negatives
    }

    void largeAmountsDoNotOverflow() {
        CPPUNIT_ASSERT_EQUAL(Cents(899999999999), apply_percent_off(kMaxNumeric12_2, 1000));
        CPPUNIT_ASSERT_EQUAL(std::string("9999999999.99"), format_money(kMaxNumeric12_2));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MoneyTest);
