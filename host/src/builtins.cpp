// Built-in routes: liveness, readiness, Prometheus metrics, plugin list and reload.
#include "builtins.hpp"

#include "shopd/json.hpp"

#include <pqxx/pqxx>

namespace shopd::host {

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
    };
    for (const auto &e : kEntries) {
        if (in.path != e.path) continue;
        route = std::string(e.method) + " " + e.path;
        if (in.method != e.method) {
            set_problem(resp, 405, "Method \"" + printable(in.wire_method()) + "\" not allowed.");
            resp.headers.emplace_back("Allow", e.method);
        } else {
            (this->*e.fn)(in, db, resp);
        }
        return true;
    }
    return false;
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

void Builtins::metrics(const Incoming &, WorkerDb &, shopd_response &resp) {
    // Held in a local: the versions below point into the plugins' own memory, which a hot swap
    // may unmap as soon as the last reference to their snapshot goes.
    const auto snap = registry_.snapshot();
    std::vector<std::array<std::string, 3>> plugins;
    for (const auto &p : snap->plugins)
        plugins.push_back({p->name, p->desc->version, std::to_string(p->desc->abi_version)});
    resp.status = 200;
    resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
    resp.body = metrics_.render(plugins);
}

bool Builtins::require_admin(const Incoming &in, shopd_response &resp) {
    if (admins_.matches(in.bearer)) return true;
    set_problem(resp, 401, "Admin token required.");
    resp.headers.emplace_back("WWW-Authenticate", "Bearer");
    return false;
}

namespace {

void write_plugin(JsonWriter &w, const LoadedPlugin &p) {
    w.StartObject();
    put_key(w, "name");
    put_string(w, p.name);
    put_key(w, "version");
    put_string(w, p.desc->version);
    put_key(w, "abi");
    w.Uint(p.desc->abi_version);
    put_key(w, "path");
    put_string(w, p.path);
    put_key(w, "loaded_at");
    put_string(w, p.loaded_at);
    w.EndObject();
}

void write_plugins(JsonWriter &w, const Snapshot &snap) {
    w.StartArray();
    for (const auto &p : snap.plugins) write_plugin(w, *p);
    w.EndArray();
}

void write_names(JsonWriter &w, const char *key, const std::vector<std::string> &names) {
    put_key(w, key);
    w.StartArray();
    for (const auto &n : names) put_string(w, n);
    w.EndArray();
}

void write_refusals(JsonWriter &w,
                    const std::vector<std::pair<std::string, std::string>> &refused) {
    put_key(w, "refused");
    w.StartArray();
    for (const auto &[name, reason] : refused) {
        w.StartObject();
        put_key(w, "name");
        put_string(w, name);
        put_key(w, "error");
        put_string(w, reason);
        w.EndObject();
    }
    w.EndArray();
}

}  // namespace

void Builtins::list_plugins(const Incoming &in, WorkerDb &, shopd_response &resp) {
    if (!require_admin(in, resp)) return;
    const auto snap = registry_.snapshot();
    set_json(resp, 200, render_json([&](JsonWriter &w) { write_plugins(w, *snap); }));
}

void Builtins::reload_plugins(const Incoming &in, WorkerDb &, shopd_response &resp) {
    if (!require_admin(in, resp)) return;
    const ReloadOutcome out = registry_.reload();
    const auto snap = registry_.snapshot();
    set_json(resp, 200, render_json([&](JsonWriter &w) {
                 w.StartObject();
                 write_names(w, "reloaded", out.reloaded);
                 write_names(w, "unchanged", out.unchanged);
                 write_refusals(w, out.refused);
                 put_key(w, "plugins");
                 write_plugins(w, *snap);
                 w.EndObject();
             }));
}

}  // namespace shopd::host
