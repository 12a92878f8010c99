// C++ side of the plugin ABI: what every shopd plugin (and the host) builds on. Wraps the C
// request in a Ctx, keeps exceptions from crossing the C boundary, and gives named prepared
// statements, auth checks and service calls.
#pragma once

#include "shopd/http.hpp"
#include "shopd/json.hpp"
#include "shopd/money.hpp"
#include "shopd/plugin.h"

#include <pqxx/pqxx>
#include <pqxx/version.hxx>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#define SHOPD_STRINGIFY2(x) #x
#define SHOPD_STRINGIFY(x)  SHOPD_STRINGIFY2(x)

/// Host and plugins share C++ objects (the worker's pqxx::connection) through the request, so
/// both must be built by the same compiler, language level and libpqxx. The loader compares
/// this string and refuses a plugin built differently (as nginx's NGX_MODULE_SIGNATURE does).
#define SHOPD_BUILD_SIGNATURE                                                                     \
    "abi=" SHOPD_STRINGIFY(SHOPD_PLUGIN_ABI_VERSION) ";cxx=" __VERSION__ ";std=" SHOPD_STRINGIFY( \
        __cplusplus) ";pqxx=" PQXX_VERSION

namespace shopd {

/// A named SQL statement, prepared on first use on each worker connection. Names are global per
/// connection, so they carry the plugin's name: "catalog.product_by_id".
struct Statement {
    Statement(const char *name, const char *sql);

    const char *name;
    const char *sql;
    /// What the connection knows it by: the name plus a hash of the SQL. Every plugin generation
    /// shares the worker's connection, and libpqxx refuses to redefine a name with other SQL, so
    /// a hot-swapped plugin that changed a query gets a fresh statement instead of a clash.
    std::string prepared_name;
};

/// Registers `st` on the connection (a no-op once registered), and notes that the request is
/// about to send a statement (see statements_sent()).
void ensure_prepared(pqxx::connection_base &conn, const Statement &st);

/// Statements this thread's current request has sent; reset as each request starts. Zero when
/// the connection breaks means nothing of the request reached the server (BEGIN aside), so the
/// host may safely run the request again on a fresh connection.
unsigned statements_sent();
/// Starts the count of statements_sent() for a new request.
void reset_statements_sent();

/// Runs a named prepared statement with parameters bound by libpqxx (never spliced into SQL).
template <class... Args>
pqxx::result exec(pqxx::transaction_base &tx, const Statement &st, Args &&...args) {
    ensure_prepared(tx.conn(), st);
    return tx.exec_prepared(st.prepared_name, std::forward<Args>(args)...);
}

/// The authenticated customer behind a request.
struct Customer {
    std::int64_t id = 0;
    std::string name;
    std::string tier;
};

/// SHA-256 of `data` as 64 lower-case hex digits.
std::string sha256_hex(std::string_view data);
/// A random token of `bytes` bytes from OpenSSL's CSPRNG, as lower-case hex.
std::string random_token(std::size_t bytes = 32);

/// Reply of a service call made through the host.
struct ServiceReply {
    int status = 0;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    /// Value of header `name` (case-insensitive), or "" when absent.
    std::string header(std::string_view name) const;
};

/// A NUMERIC(12,2) column as cents. A NULL or malformed amount is a server fault (the schema
/// forbids both), never silently 0: throws std::runtime_error, which answers 500.
Cents money_column(const pqxx::field &f);

/// One request as a handler sees it.
class Ctx {
public:
    Ctx(const char *plugin, const shopd_request *req, shopd_response *resp)
        : plugin_(plugin), req_(*req), resp_(resp) {}

    const shopd_request &raw() const { return req_; }
    std::string_view method() const { return req_.method; }
    std::string_view path() const { return req_.path; }
    std::string_view base_url() const { return req_.base_url; }
    Query query() const { return Query(req_.query); }
    std::string_view raw_query() const { return req_.query; }
    std::string_view body_text() const { return {req_.body, req_.body_len}; }

    /// Path capture `i` as an id; the router only captures digits, but ids past int64 -> 404.
    std::int64_t id_param(std::size_t i) const;
    /// The body as a JSON object: 415 if it is not declared JSON, 400 if it is not an object.
    rapidjson::Document json_body() const;

    /// The worker's connection; throws pqxx::broken_connection while the database is down.
    pqxx::connection &db() const;

    /// In a service call (plugin.serve), the caller's open transaction; nullptr otherwise.
    pqxx::transaction_base *caller_txn() const {
        return static_cast<pqxx::transaction_base *>(req_.txn);
    }

    /// 401 unless the request carries the admin bearer token.
    void require_admin() const;
    /// The customer owning the bearer token; 401 if there is none or it is unknown.
    Customer require_customer(pqxx::transaction_base &tx) const;

    /// Calls a service of another plugin through the host, inside transaction `tx`.
    /// nullopt when no loaded plugin offers it.
    std::optional<ServiceReply> call_service(pqxx::transaction_base &tx, const char *name,
                                             const std::string &input) const;

    void header(const char *name, const std::string &value) const;
    /// Sends a JSON body with `status`.
    void reply(int status, const std::string &json) const;
    /// Sends a status with no body (204).
    void reply_empty(int status) const;
    /// Sends an RFC 9457 problem.
    void reply_problem(int status, std::string_view title, std::string_view detail,
                       const FieldErrors &errors = {}, const ProblemMembers &members = {}) const;
    /// Tells the host the worker's connection is broken (it reconnects after this request, and
    /// runs the request again when nothing of it reached the server).
    void connection_lost() const;

    void log(int level, const std::string &message) const;
    const char *plugin() const { return plugin_; }

private:
    const char *plugin_;
    const shopd_request &req_;
    shopd_response *resp_;
};

/// Runs `body` and turns every exception into a response, so none crosses the C ABI:
/// ClientError -> its 4xx; lost connection -> 503 (and connection_lost()); lock timeout (55P03)
/// -> 409 + Retry-After; serialization failure / deadlock -> 409 + Retry-After; anything else
/// -> logged 500.
void run_guarded(const Ctx &ctx, const std::function<void()> &body) noexcept;

/// Replies 200 with one page in DRF's envelope; a page past the end is 404.
template <class Item, class WriteItem>
void reply_page(const Ctx &ctx, const PageRequest &page, std::int64_t count,
                const std::vector<Item> &items, WriteItem write_item) {
    if (!page_exists(page, count)) throw not_found("Invalid page.");
    const auto next = next_page_url(page, count, ctx.base_url(), ctx.path(), ctx.raw_query());
    const auto previous = previous_page_url(page, ctx.base_url(), ctx.path(), ctx.raw_query());
    ctx.reply(200, render_page(count, next, previous, items, write_item));
}

}  // namespace shopd
