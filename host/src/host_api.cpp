// The host functions handed to plugins through shopd_host_api, and the host's log writer.
#include "server.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <unistd.h>

namespace shopd::host {
namespace {

const Config *g_config = nullptr;
Metrics *g_metrics = nullptr;

void api_set_status(shopd_response *resp, int status) { resp->status = status; }

void api_add_header(shopd_response *resp, const char *name, const char *value) {
    resp->headers.emplace_back(name, value);
}

void api_set_body(shopd_response *resp, const char *content_type, const char *body, size_t len) {
    resp->content_type = content_type ? content_type : "";
    resp->body.assign(body ? body : "", body ? len : 0);
}

int api_call_service(const shopd_request *caller, void *txn, const char *name, const char *input,
                     size_t input_len, shopd_reply_fn reply, void *reply_ctx) {
    const auto *hr = static_cast<const HostRequest *>(caller->host_ctx);
    const auto it = hr->snapshot->services.find(name);
    if (it == hr->snapshot->services.end()) return -1;
    const auto &plugin = hr->snapshot->plugins[it->second];
    shopd_request call = *caller;
    call.body = input;
    call.body_len = input_len;
    call.content_type = "application/json";  // service input is always JSON, whatever the caller got
    call.txn = txn;
    call.params = nullptr;
    call.param_count = 0;
    shopd_response out;
    plugin->desc->serve(plugin->state, name, &call, &out);
    if (out.status == 0) out.status = 500;
    reply(reply_ctx, out.status, out.body.data(), out.body.size());
    return 0;
}

const char *api_config(const char *key) {
    if (!g_config) return nullptr;
    const auto it = g_config->values.find(key);
    return it == g_config->values.end() ? nullptr : it->second.c_str();
}

void api_log(int level, const char *plugin, const char *message) { log_line(level, plugin, message); }

void api_count_db_error(const char *plugin, const char *sqlstate) {
    if (g_metrics) g_metrics->count_db_error(plugin, sqlstate);
}

const shopd_host_api kHostApi = {
    sizeof(shopd_host_api), api_set_status, api_add_header, api_set_body, api_call_service,
    api_config,             api_log,        api_count_db_error, {},
};

}  // namespace

const shopd_host_api *host_api() { return &kHostApi; }

void install_host_globals(const Config *config, Metrics *metrics) {
    g_config = config;
    g_metrics = metrics;
}

void log_line(int level, const std::string &source, const std::string &message) {
    static const char *levels[] = {"info", "warn", "error"};
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("ts");
    w.String(now_rfc3339().c_str());
    w.Key("level");
    w.String(levels[level < 0 ? 0 : level > 2 ? 2 : level]);
    w.Key("source");
    w.String(source.c_str());
    w.Key("msg");
    w.String(message.c_str(), static_cast<rapidjson::SizeType>(message.size()));
    w.EndObject();
    std::string line(buf.GetString(), buf.GetSize());
    line += '\n';
    // One write(2) per line keeps lines from different threads whole.
    (void)!write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace shopd::host
