// The plugin SDK outside the tree (issue 12): installs the SDK component of this build into a
// temporary prefix (`cmake --install --component sdk`), builds examples/pricing-capped against
// it alone (find_package(shopd), same compiler), hot-swaps the resulting pricing.so into the
// running stack, and checks it serves the pricing routes with the standard rules: with no
// pricing.max-discount set (the stack's host has none), its quotes are the in-tree plugin's.
// The plugin the host had before is put back at the end, even when an assertion fails. The cap
// itself is unit-tested with cap_discount (plugins/pricing/tests/pricing_test.cpp).
#include "http_client.hpp"
#include "plugin_swap.hpp"

#include <cppunit/extensions/HelperMacros.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace shopd::test;
namespace fs = std::filesystem;

namespace {

const std::string kSourceDir = SHOPD_SOURCE_DIR;
const std::string kBuildDir = SHOPD_BUILD_DIR;
const std::string kCmake = SHOPD_CMAKE_COMMAND;
const std::string kCompiler = SHOPD_CXX_COMPILER;
const std::string kBuildType = SHOPD_BUILD_TYPE;
const std::string kCappedVersion = "1.0.0-capped";

std::string read_file(const fs::path &path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string quoted(const std::string &s) { return "'" + s + "'"; }

/// Runs `command` through the shell, its output into `log`; fails the test with the log's tail
/// when it does not exit 0.
void run(const std::string &what, const std::string &command, const fs::path &log) {
    const int rc = std::system((command + " >" + quoted(log.string()) + " 2>&1").c_str());
    if (rc != 0) {
        const std::string out = read_file(log);
        CPPUNIT_FAIL(what + " failed (" + std::to_string(rc) + "): " + command + "\n" +
                     out.substr(out.size() > 3000 ? out.size() - 3000 : 0));
    }
}

/// A temporary directory, removed on every way out.
struct TempDir {
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "shopd-sdk-itest-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    fs::path path;
};

std::string str(const rapidjson::Value &v) {
    return std::string(v.GetString(), v.GetStringLength());
}

/// What a price answer says, engine aside.
struct QuoteSeen {
    std::string engine, body_without_engine;
};

QuoteSeen quote(Http &http, const std::string &path) {
    const Response r = http.get(path);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(path + ": " + r.describe(), 200L, r.status);
    rapidjson::Document d = r.json();
    CPPUNIT_ASSERT_MESSAGE(r.describe(), d.IsObject() && d.HasMember("engine") &&
                                             d["engine"].IsString() && d.HasMember("unit_price"));
    const std::string engine = str(d["engine"]);
    d.RemoveMember("engine");
    // The remaining members as text, in the order the plugin wrote them.
    std::string text;
    for (auto it = d.MemberBegin(); it != d.MemberEnd(); ++it) {
        text += str(it->name) + "=";
        if (it->value.IsString())
            text += str(it->value);
        else if (it->value.IsInt64())
            text += std::to_string(it->value.GetInt64());
        else if (it->value.IsNull())
            text += "null";
        else
            text += "<" + std::to_string(it->value.GetType()) + ">";
        text += ";";
    }
    return QuoteSeen{engine, text};
}

/// A product (base 500.00, one variant +50.00), made through the catalog API; the price paths
/// to compare: a quantity and tier that the standard rules discount, and plain ones.
std::vector<std::string> price_paths(Http &admin) {
    auto r = admin.post("/api/categories/", "{\"name\":\"" + unique("sdk") + "\"}", admin_token());
    CPPUNIT_ASSERT_EQUAL_MESSAGE("category: " + r.describe(), 201L, r.status);
    const auto category = r.json()["id"].GetInt64();
    r = admin.post("/api/products/",
                   "{\"name\":\"" + unique("sdk") +
                       "\",\"category_id\":" + std::to_string(category) +
                       ",\"base_price\":\"500.00\",\"variants\":[{\"sku\":\"" + unique("SDK") +
                       "\",\"name\":\"v\",\"price_delta\":\"50.00\",\"stock\":1}]}",
                   admin_token());
    CPPUNIT_ASSERT_EQUAL_MESSAGE("product: " + r.describe(), 201L, r.status);
    const auto d = r.json();
    const std::string base = "/api/pricing/" + std::to_string(d["id"].GetInt64()) + "/price/";
    const std::string variant = std::to_string(d["variants"][0]["id"].GetInt64());
    return {base + "?quantity=10&user_tier=GOLD&variant_id=" + variant,
            base + "?quantity=1&variant_id=" + variant, base + "?quantity=25&user_tier=PLATINUM",
            base};
}

}  // namespace

class SdkITest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SdkITest);
    CPPUNIT_TEST(outOfTreePricingPluginBuildsAndServes);
    CPPUNIT_TEST_SUITE_END();

public:
    void outOfTreePricingPluginBuildsAndServes() {
        TempDir tmp;
        const fs::path prefix = tmp.path / "prefix", build = tmp.path / "build";

        // 1. The SDK component alone, relative paths only.
        run("install of the sdk component",
            quoted(kCmake) + " --install " + quoted(kBuildDir) + " --prefix " +
                quoted(prefix.string()) + " --component sdk",
            tmp.path / "install.log");
        for (const char *file :
             {"include/shopd/plugin.h", "include/shopd/sdk.hpp",
              "include/shopd/pricing/pricing_domain.hpp",
              "include/shopd/pricing/pricing_engine.hpp", "lib/cmake/shopd/shopdConfig.cmake",
              "lib/cmake/shopd/shopdConfigVersion.cmake"})
            CPPUNIT_ASSERT_MESSAGE(std::string("installed: ") + file, fs::exists(prefix / file));
        for (const auto &entry : fs::recursive_directory_iterator(prefix / "lib" / "cmake")) {
            if (!entry.is_regular_file()) continue;
            const std::string text = read_file(entry.path());
            CPPUNIT_ASSERT_MESSAGE(entry.path().string() + " names the source or build tree",
                                   text.find(kSourceDir) == std::string::npos &&
                                       text.find(kBuildDir) == std::string::npos &&
                                       text.find(prefix.string()) == std::string::npos);
        }

        // 2. The example, against the installed SDK only.
        run("configure of examples/pricing-capped",
            quoted(kCmake) + " -S " + quoted(kSourceDir + "/examples/pricing-capped") + " -B " +
                quoted(build.string()) + " -DCMAKE_PREFIX_PATH=" + quoted(prefix.string()) +
                " -DCMAKE_CXX_COMPILER=" + quoted(kCompiler) +
                " -DCMAKE_BUILD_TYPE=" + quoted(kBuildType) + " -DCMAKE_EXPORT_COMPILE_COMMANDS=ON",
            tmp.path / "configure.log");
        run("build of examples/pricing-capped",
            quoted(kCmake) + " --build " + quoted(build.string()) + " -j2", tmp.path / "build.log");
        const fs::path so = build / "pricing.so";
        CPPUNIT_ASSERT_MESSAGE("built " + so.string(), fs::exists(so));
        const std::string commands = read_file(build / "compile_commands.json");
        CPPUNIT_ASSERT_MESSAGE("compile_commands.json", !commands.empty());
        for (const std::string &tree : {kSourceDir + "/host", kSourceDir + "/plugins", kBuildDir})
            CPPUNIT_ASSERT_MESSAGE("the example's build sees " + tree + ":\n" + commands,
                                   commands.find(tree) == std::string::npos);

        // 3. Quotes of the in-tree plugin, then of the swapped one.
        Http admin;
        const std::vector<std::string> paths = price_paths(admin);
        const std::string original_version = plugin_version(admin, "pricing");
        CPPUNIT_ASSERT_MESSAGE("a pricing plugin is loaded", !original_version.empty());
        std::vector<QuoteSeen> before;
        for (const auto &path : paths) before.push_back(quote(admin, path));

        const fs::path backup = tmp.path / "pricing.so.orig";
        fs::copy_file(fs::path(env("SHOPD_PLUGIN_DIR")) / "pricing.so", backup);
        PluginRestore original("pricing", backup.string());
        install_plugin(so.string(), "pricing");
        const auto outcome = reload_plugins(admin);
        CPPUNIT_ASSERT_MESSAGE(
            "reload did not swap in the capped build: " + refusal_of(outcome, "pricing"),
            lists_name(outcome["reloaded"], "pricing"));
        CPPUNIT_ASSERT_EQUAL(kCappedVersion, plugin_version(admin, "pricing"));
        // The reload answers once every worker serves the new generation: every answer is its.
        for (std::size_t i = 0; i < paths.size(); ++i) {
            for (int attempt = 0; attempt < 3; ++attempt) {
                const QuoteSeen now = quote(admin, paths[i]);
                CPPUNIT_ASSERT_EQUAL_MESSAGE(paths[i], "pricing/" + kCappedVersion, now.engine);
                CPPUNIT_ASSERT_EQUAL_MESSAGE(paths[i] + ": without a cap, the standard price",
                                             before[i].body_without_engine,
                                             now.body_without_engine);
            }
        }
        // The other routes are the standard plugin's too.
        const Response rules = admin.get("/api/pricing/rules/", admin_token());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(rules.describe(), 200L, rules.status);

        original.restore(admin);
        CPPUNIT_ASSERT_EQUAL(original_version, plugin_version(admin, "pricing"));
        CPPUNIT_ASSERT_EQUAL("pricing/" + original_version, quote(admin, paths[0]).engine);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SdkITest);
