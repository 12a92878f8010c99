// One loaded plugin generation: the guarded calls into its code, and its end (shutdown, dlclose).
#include "plugins.hpp"

#include "log.hpp"
#include "response.hpp"

#include <dlfcn.h>

#include <exception>

namespace shopd::host {

LoadedPlugin::LoadedPlugin(const ManifestEntry &entry, void *dl, const shopd_plugin *d)
    : name(entry.name), path(entry.source), serial(entry.serial), loaded_at(entry.loaded_at),
      desc(d), dl_(dl) {}

LoadedPlugin::~LoadedPlugin() {
    try {
        if (initialised_ && desc->shutdown) desc->shutdown(state_);
    } catch (...) {
        log_line(2, name, "exception escaped shutdown()");
    }
    dlclose(dl_);
}

std::string describe_current_exception() {
    try {
        throw;
    } catch (const std::exception &e) {
        return e.what();
    } catch (...) {
        return "a non-standard exception";
    }
}

namespace {
void fail_call(const std::string &plugin, const char *what, const shopd_request &req,
               shopd_response &resp) {
    log_line(2, plugin,
             std::string("exception escaped ") + what + " (request " + req.request_id +
                 "): " + describe_current_exception());
    resp = shopd_response{};
    set_problem(resp, 500, "The server failed to complete the request.");
}
}  // namespace

bool LoadedPlugin::init(const shopd_host_api *api, std::string &error) {
    char reason[512] = "";
    try {
        if (desc->init(api, &state_, reason, sizeof reason) != 0) {
            error = std::string("init failed: ") + reason;
            return false;
        }
    } catch (...) {
        error = "init threw: " + describe_current_exception();
        return false;
    }
    initialised_ = true;
    return true;
}

namespace {
/// Runs `call` into plugin code: an escaping exception, or no answer at all, becomes a 500
/// problem for this one request.
template <class Call>
void guarded(const std::string &plugin, const char *what, const shopd_request &req,
             shopd_response &resp, Call call) noexcept {
    try {
        call();
    } catch (...) {
        fail_call(plugin, what, req, resp);
    }
    if (resp.status == 0) set_problem(resp, 500, std::string(what) + " produced no response.");
}
}  // namespace

void LoadedPlugin::handle(int route_id, const shopd_request &req,
                          shopd_response &resp) const noexcept {
    guarded(name, "handle()", req, resp, [&] { desc->handle(state_, route_id, &req, &resp); });
}

void LoadedPlugin::serve(const char *service, const shopd_request &req,
                         shopd_response &resp) const noexcept {
    guarded(name, "serve()", req, resp, [&] { desc->serve(state_, service, &req, &resp); });
}

}  // namespace shopd::host
