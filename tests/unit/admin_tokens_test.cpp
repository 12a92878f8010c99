// Unit tests: admin tokens from the command line and a re-readable file.
#include "admin_tokens.hpp"

#include <cppunit/extensions/HelperMacros.h>

#include <unistd.h>
#include <cstdio>
#include <fstream>

using namespace shopd::host;

class AdminTokensTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(AdminTokensTest);
    CPPUNIT_TEST(fileSkipsBlanksAndComments);
    CPPUNIT_TEST(everyListedTokenIsValid);
    CPPUNIT_TEST(reloadReplacesTheFileTokens);
    CPPUNIT_TEST(unreadableFileKeepsThePreviousSet);
    CPPUNIT_TEST_SUITE_END();

    std::string path_ = "/tmp/shopd-admin-tokens-test-" + std::to_string(getpid());

    void write(const std::string &text) { std::ofstream(path_) << text; }

public:
    void tearDown() override { std::remove(path_.c_str()); }

    void fileSkipsBlanksAndComments() {
        const auto t = parse_token_file("# rotation 2026-11\n  new-token  \n\nold-token\r\n#x\n");
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), t.size());
        CPPUNIT_ASSERT_EQUAL(std::string("new-token"), t[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("old-token"), t[1]);
    }

    void everyListedTokenIsValid() {
        const AdminTokens admins({"alpha", "beta"}, "");
        CPPUNIT_ASSERT(admins.matches("alpha"));
        CPPUNIT_ASSERT(admins.matches("beta"));
        CPPUNIT_ASSERT(!admins.matches("alph"));
        CPPUNIT_ASSERT(!admins.matches("alphaa"));
        CPPUNIT_ASSERT(!admins.matches(""));
        const AdminTokens none({}, "");
        CPPUNIT_ASSERT(!none.matches(""));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), none.size());
    }

    void reloadReplacesTheFileTokens() {
        write("old\n");
        AdminTokens admins({"flag"}, path_);
        CPPUNIT_ASSERT(admins.matches("old") && admins.matches("flag"));
        write("old\nnew\n");  // step 1 of a rotation: both valid
        admins.reload();
        CPPUNIT_ASSERT(admins.matches("old") && admins.matches("new"));
        write("new\n");  // step 3: the old one is gone at once
        admins.reload();
        CPPUNIT_ASSERT(!admins.matches("old"));
        CPPUNIT_ASSERT(admins.matches("new") && admins.matches("flag"));
    }

    void unreadableFileKeepsThePreviousSet() {
        write("kept\n");
        AdminTokens admins({}, path_);
        std::remove(path_.c_str());
        const auto message = admins.reload();
        CPPUNIT_ASSERT(message.find("keeping") != std::string::npos);
        CPPUNIT_ASSERT(admins.matches("kept"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(AdminTokensTest);
