// The plugin admin endpoints: the list (the master's decision per plugin and each worker's
// state), reload and rollback.
#include "builtins.hpp"

#include "shadow.hpp"
#include "shopd/json.hpp"

#include <chrono>

namespace shopd::host {

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

/// One plugin's row: the generation the master decided on, the one a rollback would restore,
/// and each worker's state.
void write_plugin(JsonWriter &w, const ManifestEntry &e, const std::vector<WorkerReport> &workers,
                  const ShadowShared &shadow) {
    w.StartObject();
    put_text(w, "name", e.name);
    put_text(w, "version", e.version);
    put_key(w, "abi");
    w.Uint(e.abi);
    put_text(w, "path", e.source);
    put_text(w, "loaded_at", e.loaded_at);
    put_nullable(w, "previous", e.previous_version);
    put_key(w, "workers");
    w.StartArray();
    for (const auto &r : workers) write_worker(w, r, e);
    w.EndArray();
    put_key(w, "shadow");
    write_shadow(w, shadow, e.name);
    w.EndObject();
}

void write_plugins(JsonWriter &w, const Manifest &m, const std::vector<WorkerReport> &workers,
                   const ShadowShared &shadow) {
    w.StartArray();
    for (std::uint32_t i = 0; i < m.count; ++i) write_plugin(w, m.entries[i], workers, shadow);
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
    set_json(resp, 200,
             render_json([&](JsonWriter &w) { write_plugins(w, m, workers, fleet_.shadow()); }));
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
                 write_plugins(w, m, workers, fleet_.shadow());
                 w.EndObject();
             }));
}

void Builtins::rollback_plugin(const Incoming &in, WorkerDb &, shopd_response &resp) {
    plugin_command(in, resp, "rollback", "");
}

void Builtins::promote_plugin(const Incoming &in, WorkerDb &, shopd_response &resp) {
    plugin_command(in, resp, "promote", "");
}

void Builtins::stop_shadow(const Incoming &in, WorkerDb &, shopd_response &resp) {
    plugin_command(in, resp, "shadow-stop", "");
}

/// Starts a shadow of the plugin: {"path": "/abs/candidate.so"}.
void Builtins::start_shadow(const Incoming &in, WorkerDb &, shopd_response &resp) {
    if (!require_admin(in, resp)) return;
    rapidjson::Document body;
    body.Parse(in.body.c_str(), in.body.size());
    if (body.HasParseError() || !body.IsObject())
        return set_problem(resp, 400, "The body must be a JSON object: {\"path\": \"/...\"}.");
    if (!body.HasMember("path") || !body["path"].IsString() || body["path"].GetStringLength() == 0)
        return set_problem(resp, 400, "\"path\" (the candidate .so file) is required.");
    plugin_command(in, resp, "shadow", body["path"].GetString());
}

/// Hands operator command `op` for the {name} plugin to the master; answers with the plugin's
/// row (204 with no body when the master says so).
void Builtins::plugin_command(const Incoming &in, shopd_response &resp, const char *op,
                              const std::string &arg) {
    if (!require_admin(in, resp)) return;
    const CommandResult r = fleet_.command(op, plugin_name_, arg, std::chrono::seconds(30));
    if (r.status >= 300) {
        set_problem(resp, r.status, r.message);
        if (r.status == 503) resp.headers.emplace_back("Retry-After", "5");
        return;
    }
    if (r.status == 204) {
        resp.status = 204;
        return;
    }
    const Manifest m = fleet_.manifest();
    const auto workers = fleet_.workers();
    set_json(resp, r.status, render_json([&](JsonWriter &w) {
                 for (std::uint32_t i = 0; i < m.count; ++i)
                     if (plugin_name_ == m.entries[i].name)
                         write_plugin(w, m.entries[i], workers, fleet_.shadow());
             }));
}

}  // namespace shopd::host
