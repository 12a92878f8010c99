// Built-in routes: liveness, readiness, Prometheus metrics, plugin list and reload.
#include "builtins.hpp"

#include "host_api.hpp"
#include "shadow.hpp"

#include "shopd/json.hpp"

#include <pqxx/pqxx>

#include <chrono>

namespace shopd::host {

/// Whether `path` matches `pattern`, where "{name}" stands for one plugin name (kept in
/// plugin_name_ for the handler).
bool Builtins::matches(const std::string &pattern, const std::string &path) {
    const auto at = pattern.find("{name}");
    if (at == std::string::npos) return pattern == path;
    const std::string suffix = pattern.substr(at + 6);
    if (path.size() <= at + suffix.size() || path.compare(0, at, pattern, 0, at) != 0 ||
        path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0)
        return false;
    plugin_name_ = path.substr(at, path.size() - at - suffix.size());
    return plugin_name_.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") ==
           std::string::npos;
}

bool Builtins::serve(const Incoming &in, WorkerDb &db, shopd_response &resp, std::string &route) {
    struct Entry {
        const char *method;
        const char *path;
        void (Builtins::*fn)(const Incoming &, WorkerDb &, shopd_response &);
    };
    static const Entry kEntries[] = {
        {"GET", "/healthz/", &Builtins::healthz},
        {"GET", "/readyz/", &Builtins::readyz},
        {"GET", "/metrics/", &Builtins::metrics},
        {"GET", "/api/admin/plugins/", &Builtins::list_plugins},
        {"POST", "/api/admin/plugins/reload/", &Builtins::reload_plugins},
        {"POST", "/api/admin/plugins/{name}/rollback/", &Builtins::rollback_plugin},
        {"POST", "/api/admin/plugins/{name}/promote/", &Builtins::promote_plugin},
        {"POST", "/api/admin/plugins/{name}/shadow/", &Builtins::start_shadow},
        {"DELETE", "/api/admin/plugins/{name}/shadow/", &Builtins::stop_shadow},
    };
    // A path may have several entries, one per method; 405 names every method it has.
    std::string allow;
    for (const auto &e : kEntries) {
        if (!matches(e.path, in.path)) continue;
        route = std::string(e.method) + " " + e.path;
        if (in.method == e.method) {
            (this->*e.fn)(in, db, resp);
            return true;
        }
        allow.append(allow.empty() ? "" : ", ").append(e.method);
    }
    if (allow.empty()) return false;
    set_problem(resp, 405, "Method \"" + printable(in.wire_method()) + "\" not allowed.");
    resp.headers.emplace_back("Allow", allow);
    return true;
}

void Builtins::healthz(const Incoming &, WorkerDb &, shopd_response &resp) {
    set_json(resp, 200, "{\"status\":\"ok\"}");
}

void Builtins::readyz(const Incoming &, WorkerDb &db, shopd_response &resp) {
    // A second try on a fresh connection: a stale one (the database restarted while this
    // worker was idle) says nothing about the database being ready now.
    for (int attempt = 0; attempt < 2; ++attempt) {
        pqxx::connection *conn = db.get();
        if (!conn) break;
        try {
            pqxx::nontransaction tx(*conn);
            tx.exec("SELECT 1");
            set_json(resp, 200, "{\"status\":\"ready\",\"database\":\"ok\"}");
            return;
        } catch (const std::exception &) {
            db.reset();
            metrics_.count_db_error("host", "08006");
        }
    }
    set_problem(resp, 503, "The database is unavailable.");
    resp.headers.emplace_back("Retry-After", "1");
}

/// Lines plugins add to /metrics: the answers of every service named "metrics.<plugin>" (the
/// host knows no plugin's tables; the checkout plugin counts reservations in the database).
std::string Builtins::plugin_metrics(const std::shared_ptr<const Snapshot> &snap, WorkerDb &db) {
    std::string out;
    for (const auto &[service, index] : snap->services) {
        if (service.rfind("metrics.", 0) != 0 || !db.get()) continue;
        Incoming in;
        in.method = "GET";
        in.path = "/metrics/";
        HostRequest hr{snap};
        shopd_request req = plugin_request(in, {}, false, hr);
        req.db = db.get();
        shopd_response answer;
        snap->plugins[index]->serve(service.c_str(), req, answer);
        if (hr.connection_lost) db.reset();
        if (answer.status == 200) out += answer.body;
    }
    return out;
}

void Builtins::metrics(const Incoming &, WorkerDb &db, shopd_response &resp) {
    // Held in a local: the versions below point into the plugins' own memory, which a hot swap
    // may unmap as soon as the last reference to their snapshot goes.
    const auto snap = registry_.snapshot();
    std::vector<std::array<std::string, 3>> plugins;
    for (const auto &p : snap->plugins)
        plugins.push_back({p->name, p->desc->version, std::to_string(p->desc->abi_version)});
    resp.status = 200;
    resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
    resp.body = metrics_.render(plugins) + render_shadow_metrics(fleet_.shadow()) +
                plugin_metrics(snap, db);
}

bool Builtins::require_admin(const Incoming &in, shopd_response &resp) {
    if (admins_.matches(in.bearer)) return true;
    set_problem(resp, 401, "Admin token required.");
    resp.headers.emplace_back("WWW-Authenticate", "Bearer");
    return false;
}

}  // namespace shopd::host
