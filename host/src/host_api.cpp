// The host functions handed to plugins through shopd_host_api.
#include "host_api.hpp"

#include "fcgi_io.hpp"
#include "log.hpp"
#include "response.hpp"

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

/// Hands the reply's headers over as the flat name/value list of shopd_reply_fn.
void deliver(const shopd_response &out, shopd_reply_fn reply, void *reply_ctx) {
    std::vector<const char *> headers;
    for (const auto &[name, value] : out.headers) {
        headers.push_back(name.c_str());
        headers.push_back(value.c_str());
    }
    reply(reply_ctx, out.status, out.body.data(), out.body.size(), headers.data(),
          out.headers.size());
}

int api_call_service(const shopd_request *caller, void *txn, const char *name, const char *input,
                     size_t input_len, shopd_reply_fn reply, void *reply_ctx) {
    const auto *hr = static_cast<const HostRequest *>(caller->host_ctx);
    const auto it = hr->snapshot->services.find(name);
    if (it == hr->snapshot->services.end()) return -1;
    shopd_request call = *caller;
    call.body = input;
    call.body_len = input_len;
    call.content_type =
        "application/json";  // service input is always JSON, whatever the caller got
    call.txn = txn;
    call.params = nullptr;
    call.param_count = 0;
    shopd_response out;
    hr->snapshot->plugins[it->second]->serve(name, call, out);
    deliver(out, reply, reply_ctx);
    return 0;
}

const char *api_config(const char *key) {
    if (!g_config) return nullptr;
    const auto it = g_config->values.find(key);
    return it == g_config->values.end() ? nullptr : it->second.c_str();
}

void api_log(int level, const char *plugin, const char *message) {
    log_line(level, plugin, message);
}

void api_count_db_error(const char *plugin, const char *sqlstate) {
    if (g_metrics) g_metrics->count_db_error(plugin, sqlstate);
}

void api_connection_lost(const shopd_request *req, int retry_safe) {
    auto *hr = static_cast<HostRequest *>(req->host_ctx);
    hr->connection_lost = true;
    hr->retry_safe = retry_safe != 0;
}

const shopd_host_api kHostApi = {
    sizeof(shopd_host_api),
    api_set_status,
    api_add_header,
    api_set_body,
    api_call_service,
    api_config,
    api_log,
    api_count_db_error,
    api_connection_lost,
    {},
};

}  // namespace

const shopd_host_api *host_api() { return &kHostApi; }

shopd_request plugin_request(const Incoming &in, const std::vector<const char *> &params,
                             bool is_admin, HostRequest &hr) {
    shopd_request req{};
    req.method = in.method.c_str();
    req.path = in.path.c_str();
    req.query = in.query.c_str();
    req.body = in.body.c_str();
    req.body_len = in.body.size();
    req.content_type = in.content_type.c_str();
    req.params = params.data();
    req.param_count = params.size();
    req.bearer_token = in.bearer.c_str();
    req.is_admin = is_admin ? 1 : 0;
    req.idempotency_key = in.idempotency_key.c_str();
    req.request_id = in.request_id.c_str();
    req.base_url = in.base_url.c_str();
    req.host = host_api();
    req.host_ctx = &hr;
    return req;
}

void install_host_globals(const Config *config, Metrics *metrics) {
    g_config = config;
    g_metrics = metrics;
}

}  // namespace shopd::host
