/* shopd plugin ABI: the one contract between the host kernel and a business-logic plugin.
 *
 * A plugin is a shared object that exports one C function, `<name>_shopd_plugin`, returning a
 * pointer to a constant descriptor (a function, not a data symbol: dlsym is only guaranteed for
 * functions). The host checks size, ABI version and build signature before it calls anything.
 * No C++ exception may cross this boundary: plugins catch at their edge and answer with a status
 * and a problem+json body. */
#ifndef SHOPD_PLUGIN_H
#define SHOPD_PLUGIN_H

#include <stddef.h> /* NOLINT(modernize-deprecated-headers): a C header */
#include <stdint.h> /* NOLINT(modernize-deprecated-headers) */

#ifdef __cplusplus
extern "C" {
#endif

/* Bump on any incompatible change to the structs below.
 * 2: service replies carry headers; connection_lost(); plugins declare required services. */
#define SHOPD_PLUGIN_ABI_VERSION 2

/* The exported entry point is `<plugin name>` followed by this suffix, e.g. `pricing_shopd_plugin`.
 */
#define SHOPD_PLUGIN_ENTRY_SUFFIX "_shopd_plugin"

#define SHOPD_EXPORT __attribute__((visibility("default")))

typedef struct shopd_response shopd_response; /* opaque, owned by the host */
typedef struct shopd_host_api shopd_host_api;

/* One HTTP request (or one service call) as the host hands it to a plugin. All strings are
 * NUL-terminated and live until the handler returns; none is ever NULL. */
typedef struct shopd_request {
    const char *method; /* "GET", "POST", ...                                     */
    const char *path;   /* normalised: always ends in '/'                         */
    const char *query;  /* raw query string, without '?'                          */
    const char *body;   /* request body (or service input), body_len bytes        */
    size_t body_len;
    const char *content_type;  /* Content-Type header, "" if none                        */
    const char *const *params; /* path captures ({id} ...), in pattern order             */
    size_t param_count;
    const char *bearer_token;    /* token of "Authorization: Bearer ...", "" if none       */
    int is_admin;                /* bearer_token equals the configured admin token         */
    const char *idempotency_key; /* Idempotency-Key header, "" if none                     */
    const char *request_id;      /* X-Request-Id (echoed or generated)                     */
    const char *base_url;        /* scheme://host[:port] the client used, for links        */
    void *db;                    /* pqxx::connection* of this worker (C++ plugins only,
                                    guarded by build_signature); NULL if the DB is down   */
    void *txn;                   /* service calls: the caller's pqxx::transaction_base*    */
    const shopd_host_api *host;  /* host services                                          */
    void *host_ctx;              /* opaque to plugins                                      */
} shopd_request;

/* Receives a service reply; see shopd_host_api.call_service. `headers` holds header_count
 * name/value pairs as 2 * header_count strings: name, value, name, value ... */
typedef void (*shopd_reply_fn)(void *ctx, int status, const char *body, size_t len,
                               const char *const *headers, size_t header_count);

/* Functions the host offers to plugins. Plugins must check struct_size before using a field
 * added after ABI 2. */
struct shopd_host_api {
    uint32_t struct_size;
    void (*set_status)(shopd_response *resp, int status);
    void (*add_header)(shopd_response *resp, const char *name, const char *value);
    void (*set_body)(shopd_response *resp, const char *content_type, const char *body, size_t len);
    /* Calls service `name` of whichever plugin serves it now (e.g. "price" -> pricing), within
     * the caller's transaction `caller->txn`. Returns 0 after calling reply exactly once, or -1 if
     * no loaded plugin offers the service. */
    int (*call_service)(const shopd_request *caller, void *txn, const char *name, const char *input,
                        size_t input_len, shopd_reply_fn reply, void *reply_ctx);
    /* Configuration value for `key` (e.g. "lock-timeout-ms", "checkout.reservation-ttl"), or NULL.
     */
    const char *(*config)(const char *key);
    /* One log line on the host's log, attributed to the plugin. level: 0 info, 1 warn, 2 error. */
    void (*log)(int level, const char *plugin, const char *message);
    /* Counts a database error for /metrics. */
    void (*count_db_error)(const char *plugin, const char *sqlstate);
    /* The request's database connection is broken, or a commit's outcome is unknown: the host
     * replaces the connection after this request. This, not the HTTP status, is what makes the
     * host reconnect (a 503 may as well mean "no pricing plugin is loaded"). `retry_safe` says
     * that no statement of the request reached the server, so the host may run it once more on a
     * fresh connection (a connection that died while idle then costs the client nothing). */
    void (*connection_lost)(const shopd_request *req, int retry_safe);
    void *spare[7];
};

typedef struct shopd_route {
    const char *method;  /* "GET", "POST", "PUT", "PATCH", "DELETE"                */
    const char *pattern; /* "/api/products/{id}/": {x} matches one decimal id      */
    int id;              /* passed back to handle(); chosen by the plugin          */
} shopd_route;

typedef struct shopd_plugin {
    uint32_t struct_size;        /* sizeof(shopd_plugin) the plugin was built with         */
    uint32_t abi_version;        /* SHOPD_PLUGIN_ABI_VERSION                               */
    const char *build_signature; /* compiler + libpqxx + ABI; must equal the host's        */
    const char *name;            /* "pricing": folder, target, symbol and config prefix    */
    const char *version;         /* "1.2.0"                                                */
    const shopd_route *routes;   /* HTTP routes this plugin serves                         */
    size_t route_count;
    const char *const *services; /* services offered to other plugins, e.g. "price"        */
    size_t service_count;
    /* Called once after load, before the plugin is published. Returns 0 on success; otherwise
     * writes a reason into err and the host refuses the plugin. */
    int (*init)(const shopd_host_api *host, void **state, char *err, size_t err_len);
    void (*handle)(void *state, int route_id, const shopd_request *req, shopd_response *resp);
    void (*serve)(void *state, const char *service, const shopd_request *req, shopd_response *resp);
    /* Called once, after the last request on this generation has finished. */
    void (*shutdown)(void *state);
    const char *const *required_services; /* services it calls ("price"): the host refuses  */
    size_t required_count; /* it while no loaded plugin offers one of them           */
    /* Database schema versions (the number NNN of the newest applied sql/NNN_*.sql, recorded in
     * schema_migrations) this plugin works with, inclusive; 0 = no bound. Migrations expand
     * first and contract only once no serving generation needs the old shape, so an old and a
     * new generation can serve side by side; the host refuses a plugin outside its range. */
    uint32_t schema_min;
    uint32_t schema_max;
    void *spare[5]; /* room to grow without breaking ABI 2 (the two fields above took one) */
} shopd_plugin;

typedef const shopd_plugin *(*shopd_plugin_entry_fn)(
    void); /* NOLINT(modernize-redundant-void-arg) */

#ifdef __cplusplus
}
#endif

#endif /* SHOPD_PLUGIN_H */
