// thrower: a plugin built only for tests, written against the raw C ABI (shopd/plugin.h), not the
// SDK's PluginDef, whose run_guarded() would catch its exceptions itself. It lets exceptions
// escape into the host on purpose, so tests/integration/fault_itest.cpp can prove that the host
// contains them:
//   GET /api/test/throw/        handle() starts an answer, then throws std::runtime_error
//   GET /api/test/throw-other/  handle() throws an int (not derived from std::exception)
//   GET /api/test/ok/           200 {"status":"ok","plugin":"thrower"}
// The same source builds three modules, all named "thrower" (see CMakeLists.txt):
//   THROWER_BAD_INIT   init() throws std::runtime_error
//   THROWER_BAD_ENTRY  the entry point thrower_shopd_plugin() itself throws
// No message thrown here names the plugin, "init" or "entry point": the tests look for those in
// what the host reports, so they must come from the host.
#include "shopd/plugin.h"
#include "shopd/sdk.hpp"  // SHOPD_BUILD_SIGNATURE only

#include <cstring>
#include <stdexcept>

#if defined(THROWER_BAD_INIT) && defined(THROWER_BAD_ENTRY)
#error "build one variant at a time"
#endif

namespace {

enum Route { kThrow = 1, kThrowOther = 2, kOk = 3 };

const shopd_route kRoutes[] = {
    {"GET", "/api/test/throw/", kThrow},
    {"GET", "/api/test/throw-other/", kThrowOther},
    {"GET", "/api/test/ok/", kOk},
};

#if defined(THROWER_BAD_INIT)
constexpr const char *kVersion = "0.0.1-badinit";
#elif defined(THROWER_BAD_ENTRY)
constexpr const char *kVersion = "0.0.1-badentry";
#else
constexpr const char *kVersion = "1.0.0";
#endif

int init(const shopd_host_api *, [[maybe_unused]] void **state, char *, size_t) {
#ifdef THROWER_BAD_INIT
    throw std::runtime_error("deliberate failure while starting up");
#else
    *state = nullptr;
    return 0;
#endif
}

void set_json(const shopd_request *req, shopd_response *resp, int status, const char *body) {
    req->host->set_status(resp, status);
    req->host->set_body(resp, "application/json", body, std::strlen(body));
}

void handle(void *, int route_id, const shopd_request *req, shopd_response *resp) {
    switch (route_id) {
    case kThrow:
        // A half-written answer that the host must discard in favour of its 500.
        set_json(req, resp, 200, "{\"partial\":true}");
        req->host->add_header(resp, "X-Thrower-Partial", "1");
        throw std::runtime_error("deliberate failure in a request handler");
    case kThrowOther: throw 42;
    case kOk: set_json(req, resp, 200, "{\"status\":\"ok\",\"plugin\":\"thrower\"}"); return;
    default: set_json(req, resp, 404, "{\"status\":404}"); return;
    }
}

void shutdown(void *) {}

const shopd_plugin kPlugin = {
    sizeof(shopd_plugin),
    SHOPD_PLUGIN_ABI_VERSION,
    SHOPD_BUILD_SIGNATURE,
    "thrower",
    kVersion,
    kRoutes,
    sizeof kRoutes / sizeof kRoutes[0],
    nullptr,  // services
    0,
    init,
    handle,
    nullptr,  // serve: offers no services
    shutdown,
    nullptr,  // required_services
    0,
    {},
};

}  // namespace

extern "C" SHOPD_EXPORT const shopd_plugin *thrower_shopd_plugin() {
#ifdef THROWER_BAD_ENTRY
    throw std::runtime_error("deliberate failure before any descriptor exists");
#else
    return &kPlugin;
#endif
}
