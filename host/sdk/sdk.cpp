// C++ plugin support: Ctx, the exception-proof plugin edge, prepared statements, auth.
#include "shopd/sdk.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <strings.h>
#include <cstdio>
#include <stdexcept>

namespace shopd {

namespace {
/// FNV-1a: stable across builds and processes, unlike std::hash.
std::string sql_hash(const char *sql) {
    std::uint64_t h = 1469598103934665603ULL;
    for (const char *p = sql; *p; ++p) h = (h ^ static_cast<unsigned char>(*p)) * 1099511628211ULL;
    char buf[17];
    (void)snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}
}  // namespace

Statement::Statement(const char *name_, const char *sql_)
    : name(name_), sql(sql_), prepared_name(std::string(name_) + "." + sql_hash(sql_)) {}

namespace {
thread_local unsigned t_statements_sent = 0;
}  // namespace

unsigned statements_sent() { return t_statements_sent; }
void reset_statements_sent() { t_statements_sent = 0; }

void ensure_prepared(pqxx::connection_base &conn, const Statement &st) {
    ++t_statements_sent;
    // libpqxx only records the definition here; it is sent to the server on first use and again
    // after a reconnect. Redefining a name with other SQL throws, so names must be unique.
    conn.prepare(st.prepared_name, st.sql);
}

std::string sha256_hex(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("SHA-256 failed");
    static const char *hex = "0123456789abcdef";
    std::string out;
    out.reserve(std::size_t{len} * 2);
    for (unsigned int i = 0; i < len; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}

std::string random_token(std::size_t bytes) {
    std::string raw(bytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char *>(raw.data()), static_cast<int>(bytes)) != 1)
        throw std::runtime_error("RAND_bytes failed");
    static const char *hex = "0123456789abcdef";
    std::string out;
    for (const char ch : raw) {
        const auto c = static_cast<unsigned char>(ch);
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out;
}

std::int64_t Ctx::id_param(std::size_t i) const {
    if (i >= req_.param_count)
        throw std::logic_error("route has no parameter " + std::to_string(i));
    const auto id = parse_id(req_.params[i]);
    if (!id) throw not_found();
    return *id;
}

rapidjson::Document Ctx::json_body() const {
    // Checked here rather than in the host so that, as in DRF, authentication (401) comes
    // before content negotiation (415): handlers call require_*() before json_body().
    if (req_.body_len > 0 && !is_json_media_type(req_.content_type))
        throw ClientError(415, "Unsupported Media Type",
                          std::string("Unsupported media type \"") + req_.content_type +
                              "\"; send application/json.");
    return parse_json_object(body_text());
}

pqxx::connection &Ctx::db() const {
    if (!req_.db) throw pqxx::broken_connection("database unavailable");
    return *static_cast<pqxx::connection *>(req_.db);
}

void Ctx::require_admin() const {
    if (!req_.is_admin) throw unauthorized("Admin token required.");
}

Customer Ctx::require_customer(pqxx::transaction_base &tx) const {
    static const Statement kCustomerByTokenHash{
        "sdk.customer_by_token_hash", "SELECT id, name, tier FROM customers WHERE token_hash = $1"};
    if (req_.bearer_token[0] == '\0') throw unauthorized();
    const auto rows = exec(tx, kCustomerByTokenHash, sha256_hex(req_.bearer_token));
    if (rows.empty()) throw unauthorized("Invalid token.");
    return Customer{rows[0][0].as<std::int64_t>(), rows[0][1].c_str(), rows[0][2].c_str()};
}

namespace {
void collect_reply(void *ctx, int status, const char *body, std::size_t len,
                   const char *const *headers, std::size_t header_count) {
    auto *out = static_cast<ServiceReply *>(ctx);
    out->status = status;
    out->body.assign(body, len);
    for (std::size_t i = 0; i < header_count; ++i)
        out->headers.emplace_back(headers[2 * i], headers[2 * i + 1]);
}
}  // namespace

std::string ServiceReply::header(std::string_view name) const {
    for (const auto &[n, v] : headers)
        if (n.size() == name.size() && strncasecmp(n.c_str(), name.data(), n.size()) == 0) return v;
    return "";
}

Cents money_column(const pqxx::field &f) {
    const auto cents = f.is_null() ? std::nullopt : parse_money(f.c_str());
    if (!cents)
        throw std::runtime_error(std::string("column ") + f.name() + " holds no amount: \"" +
                                 f.c_str() + "\"");
    return *cents;
}

std::optional<ServiceReply> Ctx::call_service(pqxx::transaction_base &tx, const char *name,
                                              const std::string &input) const {
    ServiceReply reply;
    if (req_.host->call_service(&req_, &tx, name, input.data(), input.size(), collect_reply,
                                &reply) != 0)
        return std::nullopt;
    return reply;
}

void Ctx::header(const char *name, const std::string &value) const {
    req_.host->add_header(resp_, name, value.c_str());
}

void Ctx::reply(int status, const std::string &json) const {
    req_.host->set_status(resp_, status);
    req_.host->set_body(resp_, "application/json; charset=utf-8", json.data(), json.size());
}

void Ctx::reply_empty(int status) const {
    req_.host->set_status(resp_, status);
    req_.host->set_body(resp_, nullptr, nullptr, 0);
}

void Ctx::reply_problem(int status, std::string_view title, std::string_view detail,
                        const FieldErrors &errors, const ProblemMembers &members) const {
    const std::string body = problem_json(status, title, detail, errors, members);
    req_.host->set_status(resp_, status);
    req_.host->set_body(resp_, "application/problem+json", body.data(), body.size());
}

void Ctx::log(int level, const std::string &message) const {
    req_.host->log(level, plugin_, message.c_str());
}

void Ctx::connection_lost() const {
    req_.host->connection_lost(&req_, statements_sent() == 0 ? 1 : 0);
}

namespace {

void reply_retry_later(const Ctx &ctx, int status, std::string_view detail) {
    ctx.header("Retry-After", "1");
    ctx.reply_problem(status, status_title(status), detail);
}

void handle_sql_error(const Ctx &ctx, const pqxx::sql_error &e) {
    const std::string &state = e.sqlstate();
    ctx.raw().host->count_db_error(ctx.plugin(), state.c_str());
    if (state == "55P03") {  // lock_not_available: lock_timeout expired
        reply_retry_later(ctx, 409, "The resource is busy; retry shortly.");
    } else if (state == "57014") {  // query_canceled: statement_timeout (a slow search)
        reply_retry_later(ctx, 503, "The request took too long; retry it later.");
    } else if (state == "40001" || state == "40P01") {  // serialization failure, deadlock
        reply_retry_later(ctx, 409, "The request conflicted with another one; retry it.");
    } else if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" ||
               state == "57P03") {
        ctx.connection_lost();
        reply_retry_later(ctx, 503, "The database is unavailable.");
    } else if (state.rfind("22", 0) == 0) {
        // Data exceptions (bad encoding, out-of-range values) come from input a handler did not
        // pre-validate: still the client's error, and nothing was written.
        ctx.log(1, "data exception " + state + ": " + e.what());
        ctx.reply_problem(400, "Bad Request",
                          "The request contains a value the database cannot store.");
    } else if (state.rfind("23", 0) == 0) {
        // Integrity violations a handler did not map itself: the request conflicts with
        // existing data (a concurrent insert of the same key, a row still referenced).
        ctx.log(1, "integrity violation " + state + ": " + e.what());
        ctx.reply_problem(409, "Conflict",
                          "The request conflicts with the current state of the data.");
    } else {
        // Server fault: the client learns nothing of the query; the log gets everything.
        ctx.log(2, "sql error " + state + ": " + e.what() + " query: " + e.query());
        ctx.reply_problem(500, "Internal Server Error",
                          "The server failed to complete the request.");
    }
}

}  // namespace

void run_guarded(const Ctx &ctx, const std::function<void()> &body) noexcept {
    try {
        try {
            body();
        } catch (const ClientError &e) {
            for (const auto &[name, value] : e.headers) ctx.header(name.c_str(), value);
            ctx.reply_problem(e.status, e.title, e.detail, e.errors, e.members);
        } catch (const pqxx::broken_connection &e) {
            ctx.connection_lost();
            ctx.raw().host->count_db_error(ctx.plugin(), "08006");
            ctx.log(1, std::string("database connection lost: ") + e.what());
            reply_retry_later(ctx, 503, "The database is unavailable.");
        } catch (const pqxx::transaction_rollback &e) {
            // Deadlock or serialization failure: libpqxx 6 derives these from pqxx::failure, not
            // sql_error. The transaction rolled back whole, so a retry is safe.
            ctx.raw().host->count_db_error(ctx.plugin(), "40001");
            ctx.log(1, std::string("transaction rolled back: ") + e.what());
            reply_retry_later(ctx, 409, "The request conflicted with another one; retry it.");
        } catch (const pqxx::sql_error &e) {
            handle_sql_error(ctx, e);
        } catch (const pqxx::in_doubt_error &e) {
            ctx.connection_lost();
            ctx.log(2, std::string("transaction outcome unknown: ") + e.what());
            reply_retry_later(ctx, 503, "The database connection was lost during commit.");
        } catch (const std::exception &e) {
            ctx.log(2, std::string("unhandled exception: ") + e.what());
            ctx.reply_problem(500, "Internal Server Error",
                              "The server failed to complete the request.");
        }
    } catch (...) {
        // Even rendering the error failed (e.g. out of memory); the host answers 500 itself.
    }
}

}  // namespace shopd
