// Built-in routes: liveness, readiness, Prometheus metrics, plugin list and reload.
#include "builtins.hpp"

#include "shopd/json.hpp"

#include <pqxx/pqxx>

#include <chrono>

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

void put_text(JsonWriter &w, const char *key, const std::string &value) {
    put_key(w, key);
    put_string(w, value);
}

void put_nullable(JsonWriter &w, const char *key, const std::string &value) {
    put_key(w, key);
    if (value.empty())
        w.Null();
    else
        put_string(w, value);
}

/// A worker's state for one plugin: "serving" the manifest's generation, "refused" it (and
/// serves the one before, `version`; `error` says why), "loading" it, or "starting".
void write_worker(JsonWriter &w, const WorkerReport &r, const ManifestEntry &e) {
    w.StartObject();
    put_key(w, "pid");
    w.Int(r.pid);
    const char *state = "starting";
    std::string version, error;
    for (std::uint32_t i = 0; i < r.plugin_count; ++i) {
        if (e.name != std::string(r.plugins[i].name)) continue;
        version = r.plugins[i].version;
        error = r.plugins[i].error;
        state = r.plugins[i].serial == e.serial ? "serving" : error.empty() ? "loading" : "refused";
    }
    put_text(w, "state", state);
    put_nullable(w, "version", version);
    put_nullable(w, "error", error);
    w.EndObject();
}

/// One row per plugin: the generation the master decided on, and each worker's state.
void write_plugins(JsonWriter &w, const Manifest &m, const std::vector<WorkerReport> &workers) {
    w.StartArray();
    for (std::uint32_t i = 0; i < m.count; ++i) {
        const ManifestEntry &e = m.entries[i];
        w.StartObject();
        put_text(w, "name", e.name);
        put_text(w, "version", e.version);
        put_key(w, "abi");
        w.Uint(e.abi);
        put_text(w, "path", e.source);
        put_text(w, "loaded_at", e.loaded_at);
        put_key(w, "workers");
        w.StartArray();
        for (const auto &r : workers) write_worker(w, r, e);
        w.EndArray();
        w.EndObject();
    }
    w.EndArray();
}

void write_names(JsonWriter &w, const char *key, const ReloadRecord &record, const char *outcome) {
    put_key(w, key);
    w.StartArray();
    for (std::uint32_t i = 0; i < record.count; ++i)
        if (std::string(record.plugins[i].outcome) == outcome)
            put_string(w, record.plugins[i].name);
    w.EndArray();
}

void write_refusals(JsonWriter &w, const ReloadRecord &record) {
    put_key(w, "refused");
    w.StartArray();
    for (std::uint32_t i = 0; i < record.count; ++i) {
        if (std::string(record.plugins[i].outcome) != "refused") continue;
        w.StartObject();
        put_text(w, "name", record.plugins[i].name);
        put_text(w, "error", record.plugins[i].reason);
        w.EndObject();
    }
    w.EndArray();
}

}  // namespace

void Builtins::list_plugins(const Incoming &in, WorkerDb &, shopd_response &resp) {
    if (!require_admin(in, resp)) return;
    const Manifest m = fleet_.manifest();
    const auto workers = fleet_.workers();
    set_json(resp, 200, render_json([&](JsonWriter &w) { write_plugins(w, m, workers); }));
}

void Builtins::reload_plugins(const Incoming &in, WorkerDb &, shopd_response &resp) {
    if (!require_admin(in, resp)) return;
    ReloadRecord record{};
    if (!fleet_.request_reload(record, std::chrono::seconds(20))) {
        set_problem(resp, 503, "The reload did not complete in every worker within 20 s.");
        resp.headers.emplace_back("Retry-After", "5");
        return;
    }
    const Manifest m = fleet_.manifest();
    const auto workers = fleet_.workers();
    set_json(resp, 200, render_json([&](JsonWriter &w) {
                 w.StartObject();
                 write_names(w, "reloaded", record, "reloaded");
                 write_names(w, "unchanged", record, "unchanged");
                 write_refusals(w, record);
                 put_key(w, "plugins");
                 write_plugins(w, m, workers);
                 w.EndObject();
             }));
}

}  // namespace shopd::host
