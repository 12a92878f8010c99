// FastCGI workers and the per-request pipeline of the host.
#include "server.hpp"

#include "shopd/http.hpp"
#include "shopd/json.hpp"

#include <fcgiapp.h>
#include <openssl/crypto.h>
#include <pqxx/pqxx>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <thread>

namespace shopd::host {
namespace {

using Clock = std::chrono::steady_clock;

/// One worker thread's database connection, reconnected lazily after the database went away.
class WorkerDb {
public:
    WorkerDb(std::string url, std::int64_t lock_timeout_ms)
        : url_(std::move(url)), lock_timeout_ms_(std::to_string(lock_timeout_ms)) {}

    /// A usable connection, or nullptr while the database is unreachable (the caller answers 503).
    pqxx::connection *get() {
        if (conn_ && !still_alive()) conn_.reset();
        if (!conn_ && Clock::now() >= next_attempt_) {
            try {
                conn_ = std::make_unique<pqxx::connection>(url_);
                // Every row lock any plugin waits for (checkout, inventory, cart) gives up after
                // --lock-timeout-ms; the SDK answers SQLSTATE 55P03 with 409 + Retry-After.
                pqxx::nontransaction setup(*conn_);
                setup.exec_params("SELECT set_config('lock_timeout', $1, false)", lock_timeout_ms_ + "ms");
                if (was_down_) log_line(0, "host", "database connection restored");
                was_down_ = false;
            } catch (const std::exception &e) {
                // Back off so a down database costs one connect attempt per worker per 100 ms.
                next_attempt_ = Clock::now() + std::chrono::milliseconds(100);
                if (!was_down_) log_line(1, "host", std::string("database unavailable: ") + e.what());
                was_down_ = true;
            }
        }
        last_used_ = Clock::now();
        return conn_.get();
    }

    /// Drops the connection after a request saw it fail; the next request reconnects.
    void reset() { conn_.reset(); }

private:
    /// Whether the connection survived since its last use. Reading pending input notices a
    /// server that closed on us; a connection idle for a second also gets a round trip, because
    /// a restarted server's goodbye can sit unread until the next query, which would then fail
    /// a request that a reconnect would have served. Busy workers never pay for the probe.
    bool still_alive() {
        try {
            conn_->get_notifs();
            if (!conn_->is_open()) return false;
            if (Clock::now() - last_used_ >= std::chrono::seconds(1)) {
                pqxx::nontransaction probe(*conn_);
                probe.exec("SELECT 1");
            }
            return true;
        } catch (const std::exception &) {
            return false;
        }
    }

    std::string url_;
    std::string lock_timeout_ms_;
    std::unique_ptr<pqxx::connection> conn_;
    Clock::time_point next_attempt_{};
    Clock::time_point last_used_{};
    bool was_down_ = false;
};

/// Parameters of one FastCGI request, read once.
struct Incoming {
    std::string method, path, query, content_type, bearer, idempotency_key, request_id, base_url;
    long long content_length = 0;
    std::string body;
};

const char *param(FCGX_Request &r, const char *name) {
    const char *v = FCGX_GetParam(name, r.envp);
    return v ? v : "";
}

std::string new_request_id() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[33];
    snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
             static_cast<unsigned long long>(rng()));
    return buf;
}

/// Accepts a client's X-Request-Id if it is short printable ASCII (it goes into logs and headers).
bool acceptable_request_id(std::string_view id) {
    if (id.empty() || id.size() > 128) return false;
    for (char c : id)
        if (c <= ' ' || c > '~') return false;
    return true;
}

Incoming read_incoming(FCGX_Request &r) {
    Incoming in;
    in.method = param(r, "REQUEST_METHOD");
    // DOCUMENT_URI is nginx's decoded, normalised path; REQUEST_URI is the raw fallback.
    std::string path = param(r, "DOCUMENT_URI");
    if (path.empty()) {
        path = param(r, "REQUEST_URI");
        path = path.substr(0, path.find('?'));
    }
    in.path = normalise_path(path);
    in.query = param(r, "QUERY_STRING");
    in.content_type = param(r, "CONTENT_TYPE");
    const std::string auth = param(r, "HTTP_AUTHORIZATION");
    if (auth.size() > 7 && strncasecmp(auth.c_str(), "Bearer ", 7) == 0) in.bearer = auth.substr(7);
    in.idempotency_key = param(r, "HTTP_IDEMPOTENCY_KEY");
    const std::string rid = param(r, "HTTP_X_REQUEST_ID");
    in.request_id = acceptable_request_id(rid) ? rid : new_request_id();
    std::string scheme = param(r, "REQUEST_SCHEME");
    if (scheme.empty()) scheme = std::strcmp(param(r, "HTTPS"), "on") == 0 ? "https" : "http";
    std::string host = param(r, "HTTP_HOST");
    if (host.empty()) host = std::string(param(r, "SERVER_NAME")) + ":" + param(r, "SERVER_PORT");
    in.base_url = scheme + "://" + host;
    in.content_length = std::atoll(param(r, "CONTENT_LENGTH"));
    return in;
}

/// Reads up to `limit` body bytes; returns false (having drained the rest) when the body is larger.
bool read_body(FCGX_Request &r, Incoming &in, long long limit) {
    char chunk[65536];
    bool fits = true;
    for (;;) {
        const int n = FCGX_GetStr(chunk, sizeof chunk, r.in);
        if (n <= 0) break;
        if (fits && static_cast<long long>(in.body.size()) + n <= limit) {
            in.body.append(chunk, static_cast<std::size_t>(n));
        } else {
            // Keep reading so the connection stays in sync for the next kept-alive request.
            fits = false;
            in.body.clear();
        }
    }
    return fits;
}

void set_problem(shopd_response &resp, int status, std::string_view detail, std::string_view title = {}) {
    resp.status = status;
    resp.content_type = "application/problem+json";
    resp.body = problem_json(status, title.empty() ? std::string_view(status_title(status)) : title, detail);
}

void set_json(shopd_response &resp, int status, std::string body) {
    resp.status = status;
    resp.content_type = "application/json; charset=utf-8";
    resp.body = std::move(body);
}

bool token_matches(const std::string &given, const std::string &expected) {
    return !expected.empty() && given.size() == expected.size() &&
           CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

std::string micros_as_ms(std::int64_t micros) {
    std::string frac = std::to_string(micros % 1000);
    frac.insert(0, 3 - frac.size(), '0');
    return std::to_string(micros / 1000) + "." + frac;
}

void log_request(const Incoming &in, int status, std::int64_t micros) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    const std::string ms = micros_as_ms(micros);
    w.StartObject();
    w.Key("ts");
    w.String(now_rfc3339().c_str());
    w.Key("level");
    w.String("info");
    w.Key("method");
    w.String(in.method.c_str());
    w.Key("path");
    w.String(in.path.c_str());
    w.Key("status");
    w.Int(status);
    w.Key("ms");
    w.RawValue(ms.c_str(), ms.size(), rapidjson::kNumberType);
    w.Key("request_id");
    w.String(in.request_id.c_str());
    w.EndObject();
    std::string line(buf.GetString(), buf.GetSize());
    line += '\n';
    (void)!write(STDERR_FILENO, line.data(), line.size());
}

void write_response(FCGX_Request &r, const Incoming &in, const shopd_response &resp) {
    std::string head = "Status: " + std::to_string(resp.status) + " " + status_title(resp.status) + "\r\n";
    if (!resp.content_type.empty()) head += "Content-Type: " + resp.content_type + "\r\n";
    head += "X-Request-Id: " + in.request_id + "\r\n";
    for (const auto &[name, value] : resp.headers) head += name + ": " + value + "\r\n";
    head += "\r\n";
    FCGX_PutStr(head.data(), static_cast<int>(head.size()), r.out);
    if (in.method != "HEAD" && !resp.body.empty())
        FCGX_PutStr(resp.body.data(), static_cast<int>(resp.body.size()), r.out);
}

}  // namespace

/// Everything one worker thread owns.
struct WorkerState {
    WorkerDb db;
};

/// Built-in operational routes (not plugins): /healthz, /readyz, /metrics, plugin admin.
class Builtins {
public:
    Builtins(const Config &config, PluginRegistry &registry, Metrics &metrics)
        : config_(config), registry_(registry), metrics_(metrics) {}

    /// Serves the request if its path is a built-in one; returns false otherwise.
    bool serve(const Incoming &in, WorkerState &worker, shopd_response &resp, std::string &route) {
        struct Entry {
            const char *method;
            const char *path;
            void (Builtins::*fn)(const Incoming &, WorkerState &, shopd_response &);
        };
        static const Entry kEntries[] = {
            {"GET", "/healthz/", &Builtins::healthz},
            {"GET", "/readyz/", &Builtins::readyz},
            {"GET", "/metrics/", &Builtins::metrics},
            {"GET", "/api/admin/plugins/", &Builtins::list_plugins},
            {"POST", "/api/admin/plugins/reload/", &Builtins::reload_plugins},
        };
        const std::string method = in.method == "HEAD" ? "GET" : in.method;
        for (const auto &e : kEntries) {
            if (in.path != e.path) continue;
            route = std::string(e.method) + " " + e.path;
            if (method != e.method) {
                set_problem(resp, 405, "Method \"" + in.method + "\" not allowed.");
                resp.headers.emplace_back("Allow", e.method);
            } else {
                (this->*e.fn)(in, worker, resp);
            }
            return true;
        }
        return false;
    }

private:
    void healthz(const Incoming &, WorkerState &, shopd_response &resp) { set_json(resp, 200, "{\"status\":\"ok\"}"); }

    void readyz(const Incoming &, WorkerState &worker, shopd_response &resp) {
        pqxx::connection *conn = worker.db.get();
        try {
            if (conn) {
                pqxx::nontransaction tx(*conn);
                tx.exec("SELECT 1");
                set_json(resp, 200, "{\"status\":\"ready\",\"database\":\"ok\"}");
                return;
            }
        } catch (const std::exception &e) {
            worker.db.reset();
            metrics_.count_db_error("host", "08006");
        }
        set_problem(resp, 503, "The database is unavailable.");
        resp.headers.emplace_back("Retry-After", "1");
    }

    void metrics(const Incoming &, WorkerState &, shopd_response &resp) {
        std::vector<std::array<std::string, 3>> plugins;
        for (const auto &p : registry_.snapshot()->plugins)
            plugins.push_back({p->name, p->desc->version, std::to_string(p->desc->abi_version)});
        resp.status = 200;
        resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
        resp.body = metrics_.render(plugins);
    }

    bool require_admin(const Incoming &in, shopd_response &resp) {
        if (token_matches(in.bearer, config_.admin_token)) return true;
        set_problem(resp, 401, "Admin token required.");
        resp.headers.emplace_back("WWW-Authenticate", "Bearer");
        return false;
    }

    static void write_plugin(JsonWriter &w, const LoadedPlugin &p) {
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

    void list_plugins(const Incoming &in, WorkerState &, shopd_response &resp) {
        if (!require_admin(in, resp)) return;
        const auto snap = registry_.snapshot();
        set_json(resp, 200, render_json([&](JsonWriter &w) {
                     w.StartArray();
                     for (const auto &p : snap->plugins) write_plugin(w, *p);
                     w.EndArray();
                 }));
    }

    void reload_plugins(const Incoming &in, WorkerState &, shopd_response &resp) {
        if (!require_admin(in, resp)) return;
        const ReloadOutcome out = registry_.reload();
        const auto snap = registry_.snapshot();
        set_json(resp, 200, render_json([&](JsonWriter &w) {
                     auto names = [&w](const char *key, const std::vector<std::string> &list) {
                         put_key(w, key);
                         w.StartArray();
                         for (const auto &n : list) put_string(w, n);
                         w.EndArray();
                     };
                     w.StartObject();
                     names("reloaded", out.reloaded);
                     names("unchanged", out.unchanged);
                     put_key(w, "refused");
                     w.StartArray();
                     for (const auto &[name, reason] : out.refused) {
                         w.StartObject();
                         put_key(w, "name");
                         put_string(w, name);
                         put_key(w, "error");
                         put_string(w, reason);
                         w.EndObject();
                     }
                     w.EndArray();
                     put_key(w, "plugins");
                     w.StartArray();
                     for (const auto &p : snap->plugins) write_plugin(w, *p);
                     w.EndArray();
                     w.EndObject();
                 }));
    }

    const Config &config_;
    PluginRegistry &registry_;
    Metrics &metrics_;
};

namespace {

/// Routes one request to a plugin and lets it fill `resp`.
void dispatch_to_plugin(const Config &config, const std::shared_ptr<const Snapshot> &snap, Incoming &in,
                        WorkerState &worker, shopd_response &resp, std::string &route) {
    const Match m = snap->router.match(in.method, in.path);
    if (m.status == MatchStatus::not_found) {
        set_problem(resp, 404, "No route for " + in.path);
        return;
    }
    if (m.status == MatchStatus::method_not_allowed) {
        set_problem(resp, 405, "Method \"" + in.method + "\" not allowed.");
        resp.headers.emplace_back("Allow", m.allow);
        return;
    }
    route = m.route->method + " " + m.route->pattern;
    std::vector<const char *> params;
    for (const auto &p : m.params) params.push_back(p.c_str());
    HostRequest hr{snap};
    shopd_request req{};
    req.method = in.method == "HEAD" ? "GET" : in.method.c_str();
    req.path = in.path.c_str();
    req.query = in.query.c_str();
    req.body = in.body.c_str();
    req.body_len = in.body.size();
    req.content_type = in.content_type.c_str();
    req.params = params.data();
    req.param_count = params.size();
    req.bearer_token = in.bearer.c_str();
    req.is_admin = token_matches(in.bearer, config.admin_token) ? 1 : 0;
    req.idempotency_key = in.idempotency_key.c_str();
    req.request_id = in.request_id.c_str();
    req.base_url = in.base_url.c_str();
    req.db = worker.db.get();
    req.txn = nullptr;
    req.host = host_api();
    req.host_ctx = &hr;
    const auto &plugin = snap->plugins[m.route->owner];
    plugin->desc->handle(plugin->state, m.route->id, &req, &resp);
    if (resp.status == 0) set_problem(resp, 500, "The handler produced no response.");
    // A 503 from a plugin means the connection failed under it: start afresh next time.
    if (resp.status == 503) worker.db.reset();
}

}  // namespace

Server::Server(const Config &config, PluginRegistry &registry, Metrics &metrics)
    : config_(config), registry_(registry), metrics_(metrics) {}

int Server::run() {
    if (FCGX_Init() != 0) {
        log_line(2, "host", "FCGX_Init failed");
        return 1;
    }
    std::string address = config_.listen;
    const bool is_unix = address.rfind("unix:", 0) == 0;
    if (is_unix) {
        address = address.substr(5);
        unlink(address.c_str());  // a stale socket from a previous run would make bind fail
    }
    listen_fd_ = FCGX_OpenSocket(address.c_str(), 1024);
    if (listen_fd_ < 0) {
        log_line(2, "host", "cannot listen on " + config_.listen);
        return 1;
    }
    // nginx may run as another user; the socket's directory is what guards access.
    if (is_unix) chmod(address.c_str(), 0666);
    // Workers accept themselves (non-blocking, from a shared epoll set that also holds parked
    // kept-alive connections); EPOLLEXCLUSIVE wakes one worker per new connection, not all.
    fcntl(listen_fd_, F_SETFL, fcntl(listen_fd_, F_GETFL) | O_NONBLOCK);
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.fd = listen_fd_;
    if (epoll_fd_ < 0 || epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) != 0) {
        log_line(2, "host", std::string("epoll setup failed: ") + std::strerror(errno));
        return 1;
    }
    log_line(0, "host", "listening on " + config_.listen + " with " + std::to_string(config_.workers) + " workers");
    std::vector<std::thread> threads;
    for (unsigned i = 0; i < config_.workers; ++i) threads.emplace_back([this, i] { worker_loop(i); });
    for (auto &t : threads) t.detach();
    // After stop() workers leave their loop within one epoll timeout (200 ms); wait up to 10 s for
    // requests in flight, then let process exit end the threads (and idle connections).
    while (!stopping_) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (int i = 0; i < 200 && in_flight_ > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    log_line(0, "host", "stopped");
    return 0;
}

void Server::stop() {
    stopping_ = true;
    FCGX_ShutdownPending();
    if (listen_fd_ >= 0) shutdown(listen_fd_, SHUT_RDWR);
}

/// Waits for work: a new connection on the listening socket or a parked kept-alive one that
/// became readable. Returns the connection's fd and whether it is new (-1: nothing yet).
std::pair<int, bool> Server::next_connection() {
    epoll_event ev{};
    if (epoll_wait(epoll_fd_, &ev, 1, 200) != 1) return {-1, false};
    const int fd = ev.data.fd;  // a copy: epoll_event is packed
    if (fd != listen_fd_) return {fd, false};
    // Several workers may wake for one connection; the losers get EAGAIN and wait again.
    return {accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC), true};
}

/// Hands an idle kept-alive connection back to the shared epoll set, so no worker thread sits
/// blocked on it. (libfcgi would otherwise pin the thread to the connection until nginx closes
/// it: with more upstream connections than workers, new connections then starve and p99
/// explodes; see ../shared/BASELINES.md.) EPOLLONESHOT: exactly one worker gets its next request.
void Server::park(int fd, bool is_new) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLONESHOT | EPOLLRDHUP;
    ev.data.fd = fd;
    if (epoll_ctl(epoll_fd_, is_new ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) != 0) close(fd);
}

void Server::worker_loop(unsigned index) {
    (void)index;
    WorkerState worker{WorkerDb(config_.database_url, config_.lock_timeout_ms)};
    Builtins builtins(config_, registry_, metrics_);
    FCGX_Request r;
    FCGX_InitRequest(&r, listen_fd_, 0);
    while (!stopping_) {
        const auto [fd, is_new] = next_connection();
        if (fd < 0) continue;
        // Give libfcgi the connection we picked; keepConnection stops it closing the fd before
        // it has read the request (it closes on EOF or when nginx asked not to keep it).
        r.ipcFd = fd;
        r.keepConnection = 1;
        if (FCGX_Accept_r(&r) < 0) continue;  // nginx closed the idle connection; libfcgi closed the fd
        // On EOF of a parked connection libfcgi may accept a fresh one itself: new to epoll too.
        const bool fresh = is_new || r.ipcFd != fd;
        serve_one(r, worker, builtins);
        FCGX_Finish_r(&r);
        if (r.ipcFd >= 0) park(r.ipcFd, fresh);
        r.ipcFd = -1;
    }
}

void Server::serve_one(FCGX_Request &r, WorkerState &worker, Builtins &builtins) {
    ++in_flight_;
    const auto start = Clock::now();
    Incoming in = read_incoming(r);
    shopd_response resp;
    std::string route = "unmatched";
    if (!read_body(r, in, config_.max_body_bytes)) {
        set_problem(resp, 413, "Request body exceeds " + std::to_string(config_.max_body_bytes) + " bytes.");
    } else if (!builtins.serve(in, worker, resp, route)) {
        const auto snap = registry_.snapshot();
        if (snap) dispatch_to_plugin(config_, snap, in, worker, resp, route);
        else set_problem(resp, 503, "The server is shutting down.");
    }
    write_response(r, in, resp);
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    metrics_.observe(route, resp.status, micros);
    log_request(in, resp.status, micros);
    --in_flight_;
}

}  // namespace shopd::host
