// How the admin API and /metrics show shadow mode: the "shadow" field of a plugin row and the
// shopd_shadow_* metrics, both read from the shared state (totals over every worker).
#include "shadow.hpp"

#include "shopd/json.hpp"

#include <cmath>

namespace shopd::host {

namespace {

void put_ms(JsonWriter &w, const char *key, double ms) {
    put_key(w, key);
    if (ms < 0)
        w.Null();
    else
        w.Double(std::round(ms * 1000) / 1000);
}

void put_answer(JsonWriter &w, const char *key, int status, const char *body) {
    put_key(w, key);
    w.StartObject();
    put_key(w, "status");
    w.Int(status);
    put_key(w, "body");
    put_string(w, body);
    w.EndObject();
}

void put_count(JsonWriter &w, const char *key, const std::atomic<std::uint64_t> &n) {
    put_key(w, key);
    w.Uint64(n.load());
}

}  // namespace

void write_shadow(JsonWriter &w, const ShadowShared &shadow, const std::string &plugin) {
    ShadowControl c{};
    shadow.control.read(c);
    if (c.serial == 0 || plugin != c.name) {
        w.Null();
        return;
    }
    const ShadowStats &s = shadow.stats;
    w.StartObject();
    put_key(w, "version");
    put_string(w, c.version);
    put_key(w, "path");
    put_string(w, c.path);
    put_key(w, "started_at");
    put_string(w, c.started_at);
    put_key(w, "state");
    put_string(w, c.state);
    put_key(w, "error");
    if (c.error[0] == '\0')
        w.Null();
    else
        put_string(w, c.error);
    put_count(w, "compared", s.compared);
    put_count(w, "differing", s.differing);
    put_count(w, "failed", s.failed);
    put_count(w, "skipped", s.skipped);
    put_count(w, "crashes", s.crashes);
    ShadowExamples ex{};
    s.examples.read(ex);
    put_key(w, "examples");
    w.StartArray();
    for (std::uint32_t i = 0; i < ex.count && i < std::size(ex.items); ++i) {
        const ShadowExample &e = ex.items[i];
        w.StartObject();
        put_key(w, "request");
        put_string(w, e.request);
        put_answer(w, "serving", e.serving_status, e.serving);
        put_answer(w, "candidate", e.candidate_status, e.candidate);
        w.EndObject();
    }
    w.EndArray();
    put_ms(w, "p50_ms", s.candidate_us.quantile_ms(0.5));
    put_ms(w, "p99_ms", s.candidate_us.quantile_ms(0.99));
    put_ms(w, "serving_p50_ms", s.serving_us.quantile_ms(0.5));
    put_ms(w, "serving_p99_ms", s.serving_us.quantile_ms(0.99));
    w.EndObject();
}

std::string render_shadow_metrics(const ShadowShared &shadow) {
    ShadowControl c{};
    shadow.control.read(c);
    if (c.serial == 0) return "";
    const ShadowStats &s = shadow.stats;
    const std::string labels =
        std::string("{plugin=\"") + c.name + "\",candidate=\"" + c.version + "\"}";
    std::string out;
    const auto counter = [&](const char *name, const char *help,
                             const std::atomic<std::uint64_t> &n) {
        out.append("# HELP shopd_shadow_").append(name).append(" ").append(help).append("\n");
        out.append("# TYPE shopd_shadow_").append(name).append(" counter\n");
        out.append("shopd_shadow_").append(name).append(labels).append(" ");
        out.append(std::to_string(n.load())).append("\n");
    };
    counter("compared_total", "Served requests the shadow candidate answered too.", s.compared);
    counter("differing_total", "Compared requests the candidate answered differently.",
            s.differing);
    counter("failed_total", "Requests lost to a candidate crash or missing route.", s.failed);
    counter("skipped_total", "Requests not compared (queue full, answer too large).", s.skipped);
    counter("crashes_total", "Shadow process deaths.", s.crashes);
    out.append("# HELP shopd_shadow_latency_seconds Plugin handle() time, serving vs candidate.\n");
    out.append("# TYPE shopd_shadow_latency_seconds gauge\n");
    for (const auto &[side, h] :
         {std::pair<const char *, const LatencyHistogram *>{"serving", &s.serving_us},
          {"candidate", &s.candidate_us}})
        for (const auto &[q, name] :
             {std::pair<double, const char *>{0.5, "0.5"}, {0.99, "0.99"}}) {
            const double ms = h->quantile_ms(q);
            if (ms < 0) continue;
            out.append("shopd_shadow_latency_seconds{plugin=\"").append(c.name);
            out.append("\",side=\"").append(side).append("\",quantile=\"").append(name);
            out.append("\"} ").append(std::to_string(ms / 1000)).append("\n");
        }
    return out;
}

}  // namespace shopd::host
