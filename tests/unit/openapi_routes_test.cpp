// Unit tests: openapi.yaml is true to the code. Every route a built plugin declares (read from
// its descriptor through dlopen, as the host does) and every host built-in is documented with
// that method, and every documented operation is served, except those marked
// `x-shopd-status: planned`, which must not be served yet (a stale marker fails too).
//
// The build passes SHOPD_PLUGIN_FILES (";"-separated module paths) and SHOPD_OPENAPI. The YAML is
// read by a deliberately small, strict scanner of the `paths:` section (see parse_openapi_paths),
// so the test needs no YAML library.
#include "shopd/plugin.h"

#include <cppunit/extensions/HelperMacros.h>

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef SHOPD_PLUGIN_FILES
#error "the build defines SHOPD_PLUGIN_FILES (see tests/CMakeLists.txt)"
#endif
#ifndef SHOPD_OPENAPI
#error "the build defines SHOPD_OPENAPI (see tests/CMakeLists.txt)"
#endif

namespace {

/// The routes the host serves itself, before any plugin: mirrors Builtins::serve's table in
/// host/src/builtins.cpp. Update both together.
const std::pair<const char *, const char *> kBuiltinRoutes[] = {
    {"GET", "/healthz/"},
    {"GET", "/readyz/"},
    {"GET", "/metrics/"},
    {"GET", "/api/admin/plugins/"},
    {"POST", "/api/admin/plugins/reload/"},
    {"POST", "/api/admin/plugins/{name}/rollback/"},
    {"POST", "/api/admin/plugins/{name}/promote/"},
    {"POST", "/api/admin/plugins/{name}/shadow/"},
    {"DELETE", "/api/admin/plugins/{name}/shadow/"},
};

/// A path reduced to what the host's router compares: a trailing '/' (the host normalises every
/// request path to one) and anonymous captures, so `/api/products/{product_id}` and the code's
/// `/api/products/{id}/` are both `/api/products/{}/`. Throws on a malformed pattern.
std::string route_shape(const std::string &path) {
    if (path.empty() || path.front() != '/')
        throw std::runtime_error("path does not start with '/': " + path);
    std::string p = path.back() == '/' ? path : path + "/";
    std::string out = "/";
    std::size_t start = 1;
    while (start < p.size()) {
        const std::size_t slash = p.find('/', start);
        const std::string seg = p.substr(start, slash - start);
        if (seg.empty()) throw std::runtime_error("empty segment in path: " + path);
        const bool capture = seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
        const bool braces = seg.find_first_of("{}") != std::string::npos;
        if (braces && (!capture || seg.find_first_of("{}", 1) != seg.size() - 1))
            throw std::runtime_error("a capture must be a whole segment like {id}: " + path);
        out += capture ? "{}" : seg;
        out += '/';
        start = slash + 1;
    }
    return out;
}

/// One operation of the `paths:` section.
struct Operation {
    std::string method;  ///< upper case
    std::string path;    ///< as written in the YAML
    bool planned = false;
    int line = 0;
};

/// Reads the operations under `paths:` of an OpenAPI document written in block style with
/// 2-space indentation: path keys (unquoted, starting with '/') at indent 2, HTTP methods at
/// indent 4, and an operation's `x-shopd-status: planned` at indent 6. Anything else at indent
/// 2 or 4 in that section is an error, as are tabs, odd indents below 6, a path without
/// operations, and duplicate paths or methods; deeper lines are not looked at. Throws
/// std::runtime_error("openapi.yaml:<line>: <why>").
std::vector<Operation> parse_openapi_paths(std::istream &in) {
    static const std::set<std::string> kMethods = {"get",   "put",  "post",    "delete",
                                                   "patch", "head", "options", "trace"};
    // Path-item keys that are not operations and whose content is deeper than indent 4.
    static const std::set<std::string> kPathItemFields = {"parameters", "summary", "description",
                                                          "servers"};

    std::vector<Operation> ops;
    std::set<std::string> paths_seen;
    std::set<std::string> methods_of_path;
    std::string path;           // current path key, "" before the first
    bool in_operation = false;  // the last indent-4 key was a method
    bool seen_paths = false, in_paths = false;
    int line_no = 0;
    std::string line;
    auto fail = [&line_no](const std::string &why) {
        throw std::runtime_error("openapi.yaml:" + std::to_string(line_no) + ": " + why);
    };
    auto close_path = [&] {
        if (!path.empty() && methods_of_path.empty()) fail("path " + path + " has no operations");
        methods_of_path.clear();
    };

    while (std::getline(in, line)) {
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const std::size_t indent = line.find_first_not_of(' ');
        if (indent == std::string::npos || line[indent] == '#') continue;  // blank or comment
        if (line[indent] == '\t') fail("tab in indentation");
        const std::string text = line.substr(indent);

        if (indent == 0) {
            if (in_paths) {
                close_path();
                in_paths = false;
            }
            if (text.rfind("paths:", 0) == 0) {
                if (seen_paths) fail("second 'paths:'");
                if (text != "paths:") fail("'paths:' must be a block mapping");
                seen_paths = in_paths = true;
            }
            continue;
        }
        if (!in_paths) continue;

        if (indent == 2) {
            if (text.front() != '/')
                fail("expected an unquoted path key starting with '/', got: " + text);
            if (text.back() != ':' || text.find(' ') != std::string::npos)
                fail("a path key is '/path/:' alone on its line, got: " + text);
            close_path();
            path = text.substr(0, text.size() - 1);
            route_shape(path);  // validates the pattern
            if (!paths_seen.insert(path).second) fail("duplicate path " + path);
            in_operation = false;
        } else if (indent == 4) {
            if (path.empty()) fail("indent-4 key before any path");
            const std::size_t colon = text.find(':');
            if (colon == std::string::npos) fail("expected a key, got: " + text);
            const std::string key = text.substr(0, colon);
            const std::string rest = text.substr(colon + 1);
            if (kMethods.count(key)) {
                if (!rest.empty()) fail("operation " + key + " must be a block mapping");
                if (!methods_of_path.insert(key).second)
                    fail("duplicate " + key + " under " + path);
                Operation op;
                op.method = key;
                std::transform(op.method.begin(), op.method.end(), op.method.begin(), ::toupper);
                op.path = path;
                op.line = line_no;
                ops.push_back(op);
                in_operation = true;
            } else if (kPathItemFields.count(key)) {
                in_operation = false;
            } else {
                fail("unexpected key '" + key + "' under " + path +
                     (key == "x-shopd-status" ? " (x-shopd-status goes on the operation)" : ""));
            }
        } else if (indent < 6) {
            fail("unexpected indent " + std::to_string(indent) +
                 " in paths (2-space block style only)");
        } else if (indent == 6 && in_operation && text.rfind("x-shopd-status:", 0) == 0) {
            std::string value = text.substr(std::string("x-shopd-status:").size());
            value.erase(0, value.find_first_not_of(' '));
            if (value != "planned") fail("x-shopd-status must be 'planned', got '" + value + "'");
            if (ops.back().planned) fail("duplicate x-shopd-status");
            ops.back().planned = true;
        }
    }
    if (in_paths) close_path();
    if (!seen_paths) throw std::runtime_error("openapi.yaml: no 'paths:' section");
    if (ops.empty()) throw std::runtime_error("openapi.yaml: 'paths:' has no operations");
    return ops;
}

std::vector<Operation> parse_openapi_text(const std::string &text) {
    std::istringstream in(text);
    return parse_openapi_paths(in);
}

std::vector<std::string> split(const std::string &s, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size()) {
        const std::size_t end = std::min(s.find(sep, start), s.size());
        if (end > start) out.push_back(s.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

/// A route the code serves.
struct CodeRoute {
    std::string method;
    std::string pattern;
    std::string owner;  ///< plugin name, or "host"
};

/// The route table of one plugin module, read through its exported descriptor.
std::vector<CodeRoute> plugin_routes(const std::string &file) {
    std::string name = file.substr(file.find_last_of('/') + 1);
    if (name.size() <= 3 || name.compare(name.size() - 3, 3, ".so") != 0)
        throw std::runtime_error(file + ": not a .so module");
    name.resize(name.size() - 3);
    void *dl = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!dl) throw std::runtime_error(file + ": " + dlerror());
    std::vector<CodeRoute> routes;
    std::string error;
    const std::string symbol = name + SHOPD_PLUGIN_ENTRY_SUFFIX;
    auto entry = reinterpret_cast<shopd_plugin_entry_fn>(dlsym(dl, symbol.c_str()));
    const shopd_plugin *d = entry ? entry() : nullptr;
    if (!entry)
        error = "no entry point " + symbol;
    else if (!d)
        error = "entry point returned no descriptor";
    else if (d->struct_size != sizeof(shopd_plugin) || d->abi_version != SHOPD_PLUGIN_ABI_VERSION)
        error = "descriptor of another ABI";
    else if (!d->name || name != d->name)
        error = "descriptor names another plugin";
    else if (d->route_count > 0 && !d->routes)
        error = "route_count without routes";
    else
        for (std::size_t i = 0; i < d->route_count; ++i) {
            const shopd_route &r = d->routes[i];
            if (!r.method || !r.pattern) {
                error = "route " + std::to_string(i) + " lacks method or pattern";
                break;
            }
            routes.push_back(
                {r.method, r.pattern, name});  // copied: the strings live in the module
        }
    dlclose(dl);
    if (!error.empty()) throw std::runtime_error(file + ": " + error);
    return routes;
}

/// Every route of the code: the host's built-ins and each plugin's table. Loaded once.
const std::vector<CodeRoute> &code_routes() {
    static const std::vector<CodeRoute> routes = [] {
        std::vector<CodeRoute> out;
        for (const auto &[method, path] : kBuiltinRoutes) out.push_back({method, path, "host"});
        for (const auto &file : split(SHOPD_PLUGIN_FILES, ';'))
            for (auto &r : plugin_routes(file)) out.push_back(std::move(r));
        return out;
    }();
    return routes;
}

const std::vector<Operation> &documented() {
    static const std::vector<Operation> ops = [] {
        std::ifstream in(SHOPD_OPENAPI);
        if (!in) throw std::runtime_error(std::string("cannot read ") + SHOPD_OPENAPI);
        return parse_openapi_paths(in);
    }();
    return ops;
}

std::string key(const std::string &method, const std::string &path) {
    return method + " " + route_shape(path);
}

std::map<std::string, const CodeRoute *> code_by_key() {
    std::map<std::string, const CodeRoute *> out;
    for (const auto &r : code_routes()) out.emplace(key(r.method, r.pattern), &r);
    return out;
}

std::map<std::string, const Operation *> documented_by_key() {
    std::map<std::string, const Operation *> out;
    for (const auto &op : documented()) out.emplace(key(op.method, op.path), &op);
    return out;
}

}  // namespace

class OpenApiRoutesTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(OpenApiRoutesTest);
    CPPUNIT_TEST(parserReadsOperationsAndPlannedMarks);
    CPPUNIT_TEST(parserIsStrict);
    CPPUNIT_TEST(shapesIgnoreCaptureNamesAndTrailingSlash);
    CPPUNIT_TEST(pluginsAndDocumentLoad);
    CPPUNIT_TEST(routesAreUniqueOnBothSides);
    CPPUNIT_TEST(everyCodeRouteIsDocumented);
    CPPUNIT_TEST(everyDocumentedOperationIsServed);
    CPPUNIT_TEST(plannedOperationsAreNotServedYet);
    CPPUNIT_TEST_SUITE_END();

public:
    void parserReadsOperationsAndPlannedMarks() {
        const auto ops = parse_openapi_text(
            "openapi: 3.0.3\n"
            "info:\n"
            "  description: |\n"
            "    paths:\n"
            "paths:\n"
            "  # a comment\n"
            "  /healthz:\n"
            "    get:\n"
            "      description: >-\n"
            "        x-shopd-status: planned\n"
            "\n"
            "  /api/x/{x_id}/:\n"
            "    parameters:\n"
            "      - {name: x_id, in: path}\n"
            "    delete:\n"
            "      x-shopd-status: planned\n"
            "      responses: {}\n"
            "    patch:\n"
            "      responses: {}\n"
            "components:\n"
            "  schemas:\n"
            "    /not-a-path:\n"
            "      get: {}\n");
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), ops.size());
        CPPUNIT_ASSERT_EQUAL(std::string("GET"), ops[0].method);
        CPPUNIT_ASSERT_EQUAL(std::string("/healthz"), ops[0].path);
        CPPUNIT_ASSERT(!ops[0].planned);  // the text inside a block scalar is not a mark
        CPPUNIT_ASSERT_EQUAL(std::string("DELETE"), ops[1].method);
        CPPUNIT_ASSERT_EQUAL(std::string("/api/x/{x_id}/"), ops[1].path);
        CPPUNIT_ASSERT(ops[1].planned);
        CPPUNIT_ASSERT_EQUAL(std::string("PATCH"), ops[2].method);
        CPPUNIT_ASSERT(!ops[2].planned);
        CPPUNIT_ASSERT_EQUAL(18, ops[2].line);
    }

    void parserIsStrict() {
        const std::string head = "openapi: 3.0.3\npaths:\n";
        const char *bad[] = {
            "  /a/:\n    get:\n      x: 1\n    get:\n      x: 1\n",  // duplicate method
            "  /a/:\n    get: {}\n",                                 // flow-style operation
            "  /a/:\n    get:\n  /a/:\n    post:\n",                 // duplicate path
            "  /a/:\n  /b/:\n    get:\n",                            // path without operations
            "  '/a/':\n    get:\n",                                  // quoted key
            "  /a/: {}\n",                                           // flow-style path item
            "  a/:\n    get:\n",                                     // not a path
            "  /a/:\n    x-shopd-status: planned\n    get:\n",       // mark on the path item
            "  /a/:\n    $ref: '#/x'\n",                             // unsupported key
            "  /a/:\n    get:\n      x-shopd-status: maybe\n",       // unknown status
            "  /a/:\n   get:\n",                                     // odd indent
            "  /a/:\n\tget:\n",                                      // tab
            "    get:\n",                                            // method before a path
            "  /a/{id/:\n    get:\n",                                // malformed capture
            "  /a/x{id}/:\n    get:\n",                              // capture not a segment
            "  /a//b/:\n    get:\n",                                 // empty segment
        };
        for (const char *body : bad)
            CPPUNIT_ASSERT_THROW_MESSAGE(body, parse_openapi_text(head + body), std::runtime_error);
        CPPUNIT_ASSERT_THROW(parse_openapi_text("openapi: 3.0.3\n"),
                             std::runtime_error);                                     // no paths
        CPPUNIT_ASSERT_THROW(parse_openapi_text("paths: {}\n"), std::runtime_error);  // flow style
        CPPUNIT_ASSERT_THROW(parse_openapi_text("paths:\ninfo:\n"), std::runtime_error);  // empty
        CPPUNIT_ASSERT_THROW(parse_openapi_text("paths:\n  /a/:\n    get:\npaths:\n"),
                             std::runtime_error);
        CPPUNIT_ASSERT_NO_THROW(parse_openapi_text(head + "  /a/:\n    get:\n"));
    }

    void shapesIgnoreCaptureNamesAndTrailingSlash() {
        CPPUNIT_ASSERT_EQUAL(std::string("/api/products/{}/"),
                             route_shape("/api/products/{product_id}/"));
        CPPUNIT_ASSERT_EQUAL(route_shape("/api/products/{id}/"), route_shape("/api/products/{pk}"));
        CPPUNIT_ASSERT_EQUAL(std::string("/healthz/"), route_shape("/healthz"));
        CPPUNIT_ASSERT(route_shape("/api/products/{id}/") != route_shape("/api/products/"));
        CPPUNIT_ASSERT_THROW(route_shape("api/x/"), std::runtime_error);
    }

    void pluginsAndDocumentLoad() {
        const auto files = split(SHOPD_PLUGIN_FILES, ';');
        CPPUNIT_ASSERT_MESSAGE("no plugin modules given", !files.empty());
        std::set<std::string> owners;
        for (const auto &r : code_routes()) owners.insert(r.owner);
        CPPUNIT_ASSERT_EQUAL_MESSAGE("a plugin declares no routes", files.size() + 1,
                                     owners.size());
        CPPUNIT_ASSERT(!documented().empty());
    }

    void routesAreUniqueOnBothSides() {
        // The host's router refuses two routes of one method and shape; the YAML must not
        // describe one route twice under differently named captures.
        CPPUNIT_ASSERT_EQUAL_MESSAGE("duplicate code route", code_routes().size(),
                                     code_by_key().size());
        CPPUNIT_ASSERT_EQUAL_MESSAGE("duplicate route in openapi.yaml", documented().size(),
                                     documented_by_key().size());
    }

    void everyCodeRouteIsDocumented() {
        const auto docs = documented_by_key();
        std::string missing;
        for (const auto &r : code_routes()) {
            const auto it = docs.find(key(r.method, r.pattern));
            if (it == docs.end())
                missing += "\n  " + r.method + " " + r.pattern + " (" + r.owner + ")";
        }
        CPPUNIT_ASSERT_MESSAGE("served but not in openapi.yaml:" + missing, missing.empty());
    }

    void everyDocumentedOperationIsServed() {
        const auto code = code_by_key();
        std::string missing;
        for (const auto &op : documented()) {
            if (op.planned) continue;
            if (!code.count(key(op.method, op.path)))
                missing += "\n  " + op.method + " " + op.path +
                           " (openapi.yaml:" + std::to_string(op.line) + ")";
        }
        CPPUNIT_ASSERT_MESSAGE(
            "in openapi.yaml but served by no plugin nor the host (mark it "
            "x-shopd-status: planned if it is not built yet):" +
                missing,
            missing.empty());
    }

    void plannedOperationsAreNotServedYet() {
        const auto code = code_by_key();
        std::string stale;
        for (const auto &op : documented()) {
            if (!op.planned) continue;
            const auto it = code.find(key(op.method, op.path));
            if (it != code.end())
                stale += "\n  " + op.method + " " + op.path + " (served by " + it->second->owner +
                         ", openapi.yaml:" + std::to_string(op.line) + ")";
        }
        CPPUNIT_ASSERT_MESSAGE("marked x-shopd-status: planned but served; drop the mark:" + stale,
                               stale.empty());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(OpenApiRoutesTest);
