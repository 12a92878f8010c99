// shopctl: the operator's tool for a running shopd host (see README "shopctl").
// Exit codes: 0 ok, 1 the operation failed or was refused, 2 usage error.
#include "generations.hpp"

#include <curl/curl.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>
#include <boost/program_options.hpp>
#include <pqxx/pqxx>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace {

/// A usage error: exit 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
/// The operation failed or was refused: exit 1.
struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

constexpr int kCheckTimeoutMs = 15000;

std::string env_or(const char *name, const std::string &fallback = "") {
    const char *v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

/// Where the host and the database are, from the global options or the environment.
struct Target {
    std::string url, token, db, plugin_dir, sql_dir;

    const std::string &need_url() const {
        if (url.empty()) throw UsageError("no host: pass --url URL or set SHOPD_URL");
        return url;
    }
    const std::string &need_token() const {
        if (token.empty())
            throw UsageError("no admin token: pass --admin-token TOKEN or set SHOPD_ADMIN_TOKEN");
        return token;
    }
};

// ---- HTTP ---------------------------------------------------------------------------------

struct Reply {
    long status = 0;
    std::string body;

    rapidjson::Document json() const {
        rapidjson::Document d;
        d.Parse(body.c_str(), body.size());
        return d;
    }
    /// The problem+json detail (or title), else the body, for messages.
    std::string reason() const {
        const auto d = json();
        if (!d.HasParseError() && d.IsObject()) {
            for (const char *k : {"detail", "title"})
                if (d.HasMember(k) && d[k].IsString()) return d[k].GetString();
        }
        return body.empty() ? "HTTP " + std::to_string(status) : body;
    }
};

size_t collect(char *data, size_t size, size_t n, void *out) {
    static_cast<std::string *>(out)->append(data, size * n);
    return size * n;
}

class Client {
public:
    explicit Client(const Target &t) : base_(t.need_url()), token_(t.need_token()) {
        while (!base_.empty() && base_.back() == '/') base_.pop_back();
        curl_ = curl_easy_init();
        if (!curl_) throw Failure("curl_easy_init failed");
    }
    ~Client() { curl_easy_cleanup(curl_); }
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;

    Reply request(const std::string &method, const std::string &path, const std::string &body = "",
                  bool auth = true) {
        Reply r;
        curl_easy_reset(curl_);
        const std::string url = base_ + path;
        curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
        curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method.c_str());
        curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &collect);
        curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &r.body);
        curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 60L);
        curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
        curl_slist *headers = nullptr;
        if (auth) headers = curl_slist_append(headers, ("Authorization: Bearer " + token_).c_str());
        headers = curl_slist_append(headers, "Accept: application/json");
        if (method != "GET" && method != "DELETE") {
            headers = curl_slist_append(headers, "Content-Type: application/json");
            curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.c_str());
            curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
        }
        curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
        const CURLcode rc = curl_easy_perform(curl_);
        curl_slist_free_all(headers);
        if (rc != CURLE_OK) throw Failure(method + " " + url + ": " + curl_easy_strerror(rc));
        curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &r.status);
        return r;
    }

private:
    CURL *curl_ = nullptr;
    std::string base_, token_;
};

// ---- plugin rows ----------------------------------------------------------------------------

std::string str(const rapidjson::Value &o, const char *key, const std::string &none = "") {
    if (!o.IsObject() || !o.HasMember(key)) return none;
    const auto &v = o[key];
    if (v.IsString()) return v.GetString();
    if (v.IsUint64()) return std::to_string(v.GetUint64());
    if (v.IsInt64()) return std::to_string(v.GetInt64());
    return none;
}

struct Worker {
    long long pid = 0;
    std::string state, version, error;
};

struct PluginRow {
    std::string name, version, abi, path, loaded_at, previous;
    bool has_previous_field = false, has_shadow_field = false;
    std::vector<Worker> workers;
    std::string shadow_json;  ///< "null" or the object, when the host reports "shadow"
};

std::vector<PluginRow> plugin_rows(Client &c) {
    const Reply r = c.request("GET", "/api/admin/plugins/");
    if (r.status != 200) throw Failure("GET /api/admin/plugins/: " + r.reason());
    const auto d = r.json();
    if (d.HasParseError() || !d.IsArray())
        throw Failure("GET /api/admin/plugins/: not a JSON array: " + r.body);
    std::vector<PluginRow> rows;
    for (const auto &p : d.GetArray()) {
        PluginRow row;
        row.name = str(p, "name");
        row.version = str(p, "version");
        row.abi = str(p, "abi");
        row.path = str(p, "path");
        row.loaded_at = str(p, "loaded_at");
        row.has_previous_field = p.HasMember("previous");
        row.previous = str(p, "previous", "-");
        if (p.HasMember("shadow")) {
            row.has_shadow_field = true;
            rapidjson::StringBuffer buf;
            rapidjson::Writer<rapidjson::StringBuffer> w(buf);
            p["shadow"].Accept(w);
            row.shadow_json = buf.GetString();
        }
        if (p.HasMember("workers") && p["workers"].IsArray()) {
            for (const auto &wv : p["workers"].GetArray()) {
                Worker w;
                w.pid = wv.IsObject() && wv.HasMember("pid") && wv["pid"].IsInt64()
                            ? wv["pid"].GetInt64()
                            : 0;
                w.state = str(wv, "state", "?");
                w.version = str(wv, "version", "-");
                w.error = str(wv, "error");
                row.workers.push_back(w);
            }
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

PluginRow find_row(Client &c, const std::string &name) {
    for (auto &row : plugin_rows(c))
        if (row.name == name) return row;
    throw Failure("no plugin named '" + name + "' on this host (see: shopctl plugins list)");
}

std::string workers_text(const PluginRow &row) {
    std::string out;
    for (const auto &w : row.workers) {
        if (!out.empty()) out += ' ';
        out += std::to_string(w.pid) + ':' + w.state;
        if (w.state != "serving" && !w.error.empty()) out += "(" + w.error + ")";
    }
    return out.empty() ? "-" : out;
}

void print_table(const std::vector<std::vector<std::string>> &rows) {
    std::vector<size_t> width;
    for (const auto &r : rows)
        for (size_t i = 0; i < r.size(); ++i) {
            if (width.size() <= i) width.push_back(0);
            width[i] = std::max(width[i], r[i].size());
        }
    for (const auto &r : rows) {
        std::string line;
        for (size_t i = 0; i < r.size(); ++i) {
            line += r[i];
            if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
        }
        std::cout << line << '\n';
    }
}

// ---- options --------------------------------------------------------------------------------

const char *const kGlobalHelp =
    "Global options (also from the environment):\n"
    "  --url URL            the host's base URL (SHOPD_URL)\n"
    "  --admin-token TOKEN  admin token (SHOPD_ADMIN_TOKEN)\n"
    "  --db DSN             PostgreSQL URL (SHOPD_DATABASE_URL)\n"
    "  --plugin-dir DIR     the host's plugin directory (SHOPD_PLUGIN_DIR)\n";

const char *const kUsage =
    "usage: shopctl [global options] COMMAND [args] [--help]\n"
    "\n"
    "Commands:\n"
    "  status                      health, readiness, plugins and workers, reservation counts\n"
    "  plugins list                one row per plugin: version, abi, loaded_at, previous, workers\n"
    "  plugins check FILE          would the host accept this plugin file? (--name NAME)\n"
    "  plugins swap NAME FILE      check, install atomically, reload, verify every worker\n"
    "  plugins rollback NAME       the previous generation serves again\n"
    "  plugins shadow NAME FILE    run FILE as a shadow candidate beside the serving NAME\n"
    "  plugins shadow-report NAME  the shadow's comparison so far\n"
    "  plugins promote NAME        the shadow candidate serves\n"
    "  plugins shadow-stop NAME    drop the shadow candidate\n"
    "  migrate                     apply sql/NNN_*.sql not applied yet (--sql-dir DIR)\n"
    "  upgrade                     the host re-executes its (new) binary in place, no request\n"
    "                              fails (--pid P, else SHOPD_HOST_PID, else --pid-file)\n"
    "\n"
    "Exit status: 0 ok, 1 the operation failed or was refused, 2 usage error.\n\n";

/// One subcommand's arguments: positional names, extra options, parsed values.
struct Args {
    po::variables_map vm;
    bool help = false;
};

Args parse_sub(const std::vector<std::string> &args, const std::string &usage,
               const std::vector<std::string> &positional,
               const po::options_description &extra = po::options_description()) {
    po::options_description opts;
    opts.add_options()("help,h", "this help");
    opts.add(extra);
    po::options_description all;
    all.add(opts);
    po::positional_options_description pos;
    for (const auto &p : positional) {
        all.add_options()(p.c_str(), po::value<std::string>());
        pos.add(p.c_str(), 1);
    }
    Args a;
    try {
        po::store(po::command_line_parser(args).options(all).positional(pos).run(), a.vm);
        po::notify(a.vm);
    } catch (const po::error &e) {
        throw UsageError(std::string(e.what()) + "\n" + usage);
    }
    if (a.vm.count("help")) {
        std::cout << usage << "\n";
        if (!extra.options().empty()) std::cout << extra << "\n";
        std::cout << kGlobalHelp;
        a.help = true;
        return a;
    }
    for (const auto &p : positional)
        if (!a.vm.count(p)) {
            std::string msg = "missing ";
            msg += p;
            msg += '\n';
            msg += usage;
            throw UsageError(msg);
        }
    return a;
}

// ---- commands -------------------------------------------------------------------------------

std::map<std::string, long long> reservation_counts(const Target &t, Client &c,
                                                    std::string &source) {
    static const char *const kStatuses[] = {"ACTIVE", "CONFIRMED", "EXPIRED", "CANCELLED"};
    std::map<std::string, long long> counts;
    for (const char *s : kStatuses) counts[s] = 0;
    if (!t.db.empty()) {
        source = "database";
        pqxx::connection conn(t.db);
        pqxx::read_transaction tx(conn);
        for (const auto &row : tx.exec("SELECT status, count(*) FROM reservations GROUP BY status"))
            counts[row[0].as<std::string>()] = row[1].as<long long>();
        return counts;
    }
    source = "API";
    for (const char *s : kStatuses) {
        const std::string path = std::string("/api/reservations/?status=") + s + "&page_size=1";
        const Reply r = c.request("GET", path);
        const auto d = r.json();
        if (r.status != 200 || d.HasParseError() || !d.IsObject() || !d.HasMember("count") ||
            !d["count"].IsInt64())
            throw Failure("GET " + path + ": " + r.reason());
        counts[s] = d["count"].GetInt64();
    }
    return counts;
}

int cmd_status(const Target &t, const std::vector<std::string> &args) {
    if (parse_sub(args, "usage: shopctl status", {}).help) return 0;
    Client c(t);
    bool ok = true;
    for (const char *path : {"/healthz/", "/readyz/"}) {
        const Reply r = c.request("GET", path, "", false);
        const bool good = r.status == 200;
        ok = ok && good;
        std::cout << path << ": " << (good ? "ok" : "FAIL (" + r.reason() + ")") << '\n';
    }
    std::cout << "\nplugins:\n";
    for (const auto &row : plugin_rows(c)) {
        std::cout << "  " << row.name << " " << row.version << " (abi " << row.abi << ", loaded_at "
                  << row.loaded_at << ")\n";
        for (const auto &w : row.workers) {
            std::cout << "    worker " << w.pid << ": " << w.state << " " << w.version;
            if (!w.error.empty()) std::cout << " error: " << w.error;
            std::cout << '\n';
            ok = ok && w.state == "serving";
        }
    }
    std::string source;
    try {
        const auto counts = reservation_counts(t, c, source);
        std::cout << "\nreservations (from the " << source << "):\n";
        for (const auto &[status, n] : counts) std::cout << "  " << status << " " << n << '\n';
    } catch (const std::exception &e) {
        std::cerr << "shopctl: reservation counts: " << e.what() << '\n';
        ok = false;
    }
    return ok ? 0 : 1;
}

int cmd_list(const Target &t, const std::vector<std::string> &args) {
    if (parse_sub(args, "usage: shopctl plugins list", {}).help) return 0;
    Client c(t);
    std::vector<std::vector<std::string>> table = {
        {"NAME", "VERSION", "ABI", "LOADED_AT", "PREVIOUS", "WORKERS"}};
    for (const auto &row : plugin_rows(c))
        table.push_back({row.name, row.version, row.abi, row.loaded_at,
                         row.has_previous_field ? row.previous : "?", workers_text(row)});
    print_table(table);
    return 0;
}

std::string default_name(const std::string &file) {
    std::string name = fs::path(file).filename().string();
    if (name.size() > 3 && name.compare(name.size() - 3, 3, ".so") == 0)
        name.resize(name.size() - 3);
    return name;
}

/// Checks `file` as plugin `name` as the host's master does; prints the verdict.
/// With `db`, the schema versions the plugin declares are compared with the database's.
shopd::host::CheckResult check_file(const std::string &file, const std::string &name,
                                    const std::string &db) {
    if (!fs::is_regular_file(file)) throw Failure("no such file: " + file);
    const auto abs = fs::absolute(file).string();
    auto v = shopd::host::check_in_child(abs, name, kCheckTimeoutMs, db);
    if (v.ok)
        std::cout << "check: " << file << " as " << name << ": ok, version " << v.version
                  << ", abi " << v.abi << '\n';
    else  // the host's reasons may start with "refused: " themselves; say it once
        std::cout << "check: " << file << " as " << name << ": REFUSED: "
                  << (v.error.rfind("refused: ", 0) == 0 ? v.error.substr(9) : v.error) << '\n';
    std::cout << "schema: "
              << (!v.schema.empty() ? v.schema
                  : db.empty()      ? std::string("not compared (no --db)")
                                    : std::string("not compared"))
              << '\n';
    return v;
}

int cmd_check(const Target &t, const std::vector<std::string> &args) {
    po::options_description extra("Options");
    extra.add_options()("name", po::value<std::string>(),
                        "plugin name (default: the file's name without .so)");
    const auto a =
        parse_sub(args, "usage: shopctl plugins check FILE [--name NAME]", {"FILE"}, extra);
    if (a.help) return 0;
    const auto file = a.vm["FILE"].as<std::string>();
    const auto name = a.vm.count("name") ? a.vm["name"].as<std::string>() : default_name(file);
    const auto v = check_file(file, name, t.db);
    return v.ok ? 0 : 1;
}

/// Copies `from` into `target`'s directory under a temporary name, then rename()s it over
/// `target`, so the host never sees a partial file.
void install_atomically(const std::string &from, const fs::path &target) {
    const fs::path tmp = target.parent_path() / ("." + target.filename().string() + ".shopctl-" +
                                                 std::to_string(getpid()));
    std::error_code ec;
    fs::copy_file(from, tmp, fs::copy_options::overwrite_existing, ec);
    if (ec) throw Failure("copy " + from + " to " + tmp.string() + ": " + ec.message());
    if (std::rename(tmp.c_str(), target.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        fs::remove(tmp, ec);
        throw Failure("rename " + tmp.string() + " to " + target.string() + ": " + why);
    }
}

fs::path install_target(const Target &t, const PluginRow &row, bool dir_given) {
    if (dir_given || row.path.empty()) {
        if (t.plugin_dir.empty())
            throw UsageError("no plugin directory: pass --plugin-dir DIR or set SHOPD_PLUGIN_DIR");
        return fs::path(t.plugin_dir) / (row.name + ".so");
    }
    return fs::path(row.path);
}

bool names(const rapidjson::Value &o, const char *key, const std::string &name) {
    if (!o.IsObject() || !o.HasMember(key) || !o[key].IsArray()) return false;
    for (const auto &n : o[key].GetArray())
        if (n.IsString() && n.GetString() == name) return true;
    return false;
}

std::string refusal(const rapidjson::Value &o, const std::string &name) {
    if (!o.IsObject() || !o.HasMember("refused") || !o["refused"].IsArray()) return "";
    for (const auto &r : o["refused"].GetArray())
        if (str(r, "name") == name) return str(r, "error", "(no reason given)");
    return "";
}

void print_before_after(const PluginRow &before, const PluginRow &after) {
    std::cout << "before: " << before.name << " " << before.version << " loaded_at "
              << before.loaded_at << '\n'
              << "after:  " << after.name << " " << after.version << " loaded_at "
              << after.loaded_at << " workers " << workers_text(after) << '\n';
}

int cmd_swap(const Target &t, const std::vector<std::string> &args, bool dir_given) {
    po::options_description extra("Options");
    extra.add_options()("timeout", po::value<int>()->default_value(30),
                        "seconds to wait for every worker to serve the new file");
    const auto a =
        parse_sub(args, "usage: shopctl plugins swap NAME FILE", {"NAME", "FILE"}, extra);
    if (a.help) return 0;
    const auto name = a.vm["NAME"].as<std::string>();
    const auto file = a.vm["FILE"].as<std::string>();
    const int timeout = a.vm["timeout"].as<int>();
    Client c(t);
    const PluginRow before = find_row(c, name);
    const auto v = check_file(file, name, t.db);
    if (!v.ok) throw Failure("refused, nothing installed: " + v.error);
    const fs::path target = install_target(t, before, dir_given);
    // Keep the file being replaced (a hard link), to put it back if the host refuses the new one.
    const fs::path keep = target.parent_path() / ("." + target.filename().string() +
                                                  ".shopctl-old-" + std::to_string(getpid()));
    const bool kept = ::link(target.c_str(), keep.c_str()) == 0;
    install_atomically(file, target);
    std::cout << "installed " << target.string() << '\n';
    const Reply r = c.request("POST", "/api/admin/plugins/reload/", "");
    const auto outcome = r.json();
    std::error_code ec;
    if (r.status != 200 || outcome.HasParseError() || !outcome.IsObject()) {
        if (kept) fs::remove(keep, ec);
        throw Failure("reload: " + r.reason());
    }
    const std::string why = refusal(outcome, name);
    if (!why.empty()) {
        if (kept && std::rename(keep.c_str(), target.c_str()) == 0)
            std::cout << "put the previous file back in place\n";
        throw Failure("the host refused " + file + ": " + why);
    }
    if (kept) fs::remove(keep, ec);
    // Every worker must serve the new generation: a new loaded_at (also for an identical
    // version string), the checked version, every worker "serving" it.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout);
    PluginRow after;
    for (;;) {
        after = find_row(c, name);
        const bool all_serving =
            !after.workers.empty() &&
            std::all_of(after.workers.begin(), after.workers.end(), [&](const Worker &w) {
                return w.state == "serving" && w.version == v.version;
            });
        if (after.loaded_at != before.loaded_at && after.version == v.version && all_serving) break;
        if (std::chrono::steady_clock::now() > deadline) {
            print_before_after(before, after);
            throw Failure("not every worker serves " + name + " " + v.version + " after " +
                          std::to_string(timeout) + " s" +
                          (names(outcome, "unchanged", name) ? " (the host saw no change)" : ""));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    print_before_after(before, after);
    std::cout << "swapped " << name << ": every worker serves " << after.version << '\n';
    return 0;
}

/// A POST/DELETE on /api/admin/plugins/<name>/<what>/ that this host may not have yet.
Reply plugin_action(Client &c, const std::string &method, const std::string &name,
                    const std::string &what, const std::string &body, const std::string &missing) {
    Reply r = c.request(method, "/api/admin/plugins/" + name + "/" + what + "/", body);
    if (r.status == 404 || r.status == 405) throw Failure(missing + " (" + r.reason() + ")");
    if (r.status / 100 != 2) throw Failure(method + " " + what + ": " + r.reason());
    return r;
}

int cmd_rollback(const Target &t, const std::vector<std::string> &args) {
    const auto a = parse_sub(args, "usage: shopctl plugins rollback NAME", {"NAME"});
    if (a.help) return 0;
    const auto name = a.vm["NAME"].as<std::string>();
    Client c(t);
    const PluginRow before = find_row(c, name);
    plugin_action(c, "POST", name, "rollback", "",
                  "host too old: it has no POST /api/admin/plugins/<name>/rollback/");
    const PluginRow after = find_row(c, name);
    print_before_after(before, after);
    return 0;
}

std::string json_string(const std::string &s) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
    return buf.GetString();
}

const char *const kNoShadow = "shadow is not supported by this host";

/// A JSON value as compact text ("10.00", 200, [..]).
std::string compact(const rapidjson::Value &v) {
    if (v.IsString()) return v.GetString();
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
    return buf.GetString();
}

/// What differs between two answers: "status 200 -> 500", or the top-level JSON fields that
/// differ ("unit_price 9.56 -> 10.00"), or both bodies when they are not JSON objects.
std::string answer_diff(const rapidjson::Value &serving, const rapidjson::Value &candidate) {
    std::string out;
    if (str(serving, "status") != str(candidate, "status"))
        out = "status " + str(serving, "status") + " -> " + str(candidate, "status") + "; ";
    rapidjson::Document a, b;
    a.Parse(str(serving, "body").c_str());
    b.Parse(str(candidate, "body").c_str());
    if (!a.IsObject() || !b.IsObject())
        return out + str(serving, "body") + " -> " + str(candidate, "body");
    for (const auto &m : a.GetObject()) {
        const std::string key = m.name.GetString();
        if (key == "engine") continue;  // names the plugin's version: differs by design
        const std::string was = compact(m.value);
        const std::string now = b.HasMember(key.c_str()) ? compact(b[key.c_str()]) : "(none)";
        if (was != now) out.append(key).append(" ").append(was).append(" -> ").append(now) += ", ";
    }
    return out.empty() ? "(only the engine's version)" : out.substr(0, out.size() - 2);
}

void print_shadow_report(const rapidjson::Document &d, const std::string &name,
                         const std::string &serving) {
    std::cout << "shadow of " << name << ": candidate " << str(d, "version") << " beside "
              << serving << ", " << str(d, "state") << " since " << str(d, "started_at") << '\n'
              << "  compared " << str(d, "compared") << ", differing " << str(d, "differing")
              << ", failed " << str(d, "failed") << ", skipped " << str(d, "skipped")
              << ", crashes " << str(d, "crashes") << '\n';
    const auto ms = [&](const char *k) {
        return d.HasMember(k) && d[k].IsNumber() ? std::to_string(d[k].GetDouble()).substr(0, 6)
                                                 : std::string("-");
    };
    std::cout << "  latency ms (p50/p99): candidate " << ms("p50_ms") << " / " << ms("p99_ms")
              << ", serving " << ms("serving_p50_ms") << " / " << ms("serving_p99_ms") << '\n';
    if (!str(d, "error").empty()) std::cout << "  last error: " << str(d, "error") << '\n';
    if (d.HasMember("examples") && d["examples"].IsArray())
        for (const auto &e : d["examples"].GetArray())
            std::cout << "  " << str(e, "request") << ": "
                      << answer_diff(e["serving"], e["candidate"]) << '\n';
}

int cmd_shadow(const Target &t, const std::vector<std::string> &args, const std::string &sub) {
    const bool with_file = sub == "shadow";
    const auto a = parse_sub(
        args, "usage: shopctl plugins " + sub + " NAME" + (with_file ? " FILE" : ""),
        with_file ? std::vector<std::string>{"NAME", "FILE"} : std::vector<std::string>{"NAME"});
    if (a.help) return 0;
    const auto name = a.vm["NAME"].as<std::string>();
    Client c(t);
    const PluginRow before = find_row(c, name);
    if (sub == "shadow") {
        const auto file = a.vm["FILE"].as<std::string>();
        const auto v = check_file(file, name, t.db);
        if (!v.ok) throw Failure("refused: " + v.error);
        plugin_action(c, "POST", name, "shadow",
                      "{\"path\":" + json_string(fs::absolute(file).string()) + "}", kNoShadow);
        std::cout << "shadow started: " << name << " " << v.version << " beside " << before.version
                  << '\n';
    } else if (sub == "shadow-report") {
        if (!before.has_shadow_field) throw Failure(kNoShadow);
        if (before.shadow_json == "null") throw Failure("no shadow running for " + name);
        rapidjson::Document d;
        d.Parse(before.shadow_json.c_str());
        print_shadow_report(d, name, before.version);
    } else if (sub == "promote") {
        plugin_action(c, "POST", name, "promote", "", kNoShadow);
        print_before_after(before, find_row(c, name));
    } else {
        plugin_action(c, "DELETE", name, "shadow", "", kNoShadow);
        std::cout << "shadow stopped for " << name << '\n';
    }
    return 0;
}

// ---- migrate (same semantics as scripts/migrate) --------------------------------------------

std::string default_sql_dir(const char *argv0) {
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    const fs::path exe = ec ? fs::path(argv0) : self;
    const fs::path installed = exe.parent_path().parent_path() / "share" / "shopd" / "sql";
    if (fs::is_directory(installed, ec)) return installed.string();
    return SHOPCTL_SOURCE_SQL_DIR;
}

int cmd_migrate(const Target &t, const std::vector<std::string> &args) {
    po::options_description extra("Options");
    extra.add_options()("sql-dir", po::value<std::string>(),
                        "directory of NNN_*.sql (default: share/shopd/sql beside the binary, "
                        "else the source tree's sql/)");
    const auto a = parse_sub(args, "usage: shopctl migrate [--db DSN] [--sql-dir DIR]", {}, extra);
    if (a.help) return 0;
    const std::string dir = a.vm.count("sql-dir") ? a.vm["sql-dir"].as<std::string>() : t.sql_dir;
    if (t.db.empty()) throw UsageError("no database: pass --db DSN or set SHOPD_DATABASE_URL");
    if (!fs::is_directory(dir)) throw Failure("no such directory: " + dir);
    // The migrations in apply order; two files with one number are an error.
    static const std::regex candidate("[0-9]{3}_.*\\.sql");
    static const std::regex valid("[0-9]{3}_[A-Za-z0-9_-]+");
    std::vector<fs::path> files;
    for (const auto &e : fs::directory_iterator(dir)) {
        const std::string n = e.path().filename().string();
        if (e.is_regular_file() && std::regex_match(n, candidate)) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) throw Failure("no migrations in " + dir);
    std::set<std::string> numbers;
    for (const auto &f : files)
        if (!numbers.insert(f.filename().string().substr(0, 3)).second)
            throw Failure("two migrations numbered " + f.filename().string().substr(0, 3) + " in " +
                          dir);
    pqxx::connection conn(t.db);
    pqxx::nontransaction(conn).exec0("SET client_min_messages TO warning");
    std::set<std::string> applied;
    {
        pqxx::work tx(conn);
        tx.exec0(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY, applied_at timestamptz DEFAULT now())");
        for (const auto &row : tx.exec("SELECT version FROM schema_migrations ORDER BY version"))
            applied.insert(row[0].as<std::string>());
        tx.commit();
    }
    int count = 0;
    for (const auto &f : files) {
        const std::string version = f.stem().string();
        if (!std::regex_match(version, valid))
            throw Failure("bad migration file name: " + f.string());
        if (applied.count(version)) {
            std::cout << "skipped " << version << " (already applied)\n";
            continue;
        }
        std::ifstream in(f);
        std::stringstream sql;
        sql << in.rdbuf();
        if (!in) throw Failure("cannot read " + f.string());
        try {
            // The record first: a concurrent migrate blocks on the primary key, then fails.
            pqxx::work tx(conn);
            tx.exec_params0("INSERT INTO schema_migrations (version) VALUES ($1)", version);
            tx.exec(sql.str());
            tx.commit();
        } catch (const std::exception &e) {
            throw Failure("migration " + version +
                          " failed; nothing of it was applied: " + e.what());
        }
        std::cout << "applied " << version << '\n';
        ++count;
    }
    std::cout << "migrate: " << count << " applied\n";
    return 0;
}

// ---- upgrade --------------------------------------------------------------------------------

/// The master's worker processes (its children), from /proc.
std::set<long> children_of(long pid) {
    std::set<long> out;
    std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
    long child = 0;
    while (in >> child) out.insert(child);
    return out;
}

/// SIGUSR2 to the host's master, then waits until none of its old workers is left and it has
/// workers again: the new executable serves under the same PID.
int cmd_upgrade(const std::vector<std::string> &args) {
    po::options_description extra("upgrade options");
    const std::string default_pid_file = env_or("SHOPD_VAR").empty()
                                             ? "/run/shopd/shopd.pid"
                                             : env_or("SHOPD_VAR") + "/run/shopd.pid";
    extra.add_options()("pid", po::value<long>(), "the host's master process")(
        "pid-file", po::value<std::string>()->default_value(default_pid_file),
        "read the pid here when neither --pid nor SHOPD_HOST_PID is given")(
        "timeout", po::value<int>()->default_value(60), "seconds to wait for the new workers");
    const auto a = parse_sub(args, "usage: shopctl upgrade [--pid P]", {}, extra);
    if (a.help) return 0;
    long pid = 0;
    std::string from;
    if (a.vm.count("pid")) {
        pid = a.vm["pid"].as<long>();
        from = "--pid";
    } else if (!env_or("SHOPD_HOST_PID").empty()) {
        pid = std::strtol(env_or("SHOPD_HOST_PID").c_str(), nullptr, 10);
        from = "SHOPD_HOST_PID";
    } else {
        from = a.vm["pid-file"].as<std::string>();
        std::ifstream in(from);
        if (!(in >> pid))
            throw UsageError(
                "no host pid: pass --pid P, set SHOPD_HOST_PID or "
                "give a readable --pid-file (" +
                from + ")");
    }
    if (pid <= 1) throw UsageError("bad host pid " + std::to_string(pid) + " (from " + from + ")");
    const std::set<long> old = children_of(pid);
    if (kill(static_cast<pid_t>(pid), SIGUSR2) != 0)
        throw Failure("cannot signal pid " + std::to_string(pid) + " (from " + from +
                      "): " + std::strerror(errno));
    std::cout << "SIGUSR2 sent to " << pid << " (from " << from << "); waiting for new workers\n";
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(a.vm["timeout"].as<int>());
    while (std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (kill(static_cast<pid_t>(pid), 0) != 0)
            throw Failure("the host (pid " + std::to_string(pid) + ") is gone");
        const std::set<long> now = children_of(pid);
        const bool old_left =
            std::any_of(old.begin(), old.end(), [&](long p) { return now.count(p) != 0; });
        if (old_left || now.empty()) continue;
        std::cout << "upgraded: pid " << pid << " kept, " << old.size() << " old workers stopped, "
                  << now.size() << " new workers\n";
        return 0;
    }
    throw Failure(
        "the upgrade did not complete within the timeout (refused? see the host's "
        "log: \"upgrade refused\")");
}

// ---- main -----------------------------------------------------------------------------------

int run(int argc, char **argv) {
    po::options_description global;
    global.add_options()("help,h", "")("url", po::value<std::string>())(
        "admin-token", po::value<std::string>())("db", po::value<std::string>())(
        "plugin-dir", po::value<std::string>())("command", po::value<std::string>())(
        "args", po::value<std::vector<std::string>>());
    po::positional_options_description pos;
    pos.add("command", 1).add("args", -1);
    po::variables_map vm;
    po::parsed_options parsed(nullptr);
    try {
        parsed = po::command_line_parser(argc, argv)
                     .options(global)
                     .positional(pos)
                     .allow_unregistered()
                     .run();
        po::store(parsed, vm);
    } catch (const po::error &e) {
        throw UsageError(e.what());
    }
    Target t;
    t.url = vm.count("url") ? vm["url"].as<std::string>() : env_or("SHOPD_URL");
    t.token =
        vm.count("admin-token") ? vm["admin-token"].as<std::string>() : env_or("SHOPD_ADMIN_TOKEN");
    t.db = vm.count("db") ? vm["db"].as<std::string>() : env_or("SHOPD_DATABASE_URL");
    const bool dir_given = vm.count("plugin-dir") > 0;
    t.plugin_dir = dir_given ? vm["plugin-dir"].as<std::string>() : env_or("SHOPD_PLUGIN_DIR");
    t.sql_dir = default_sql_dir(argv[0]);

    if (!vm.count("command")) {
        if (vm.count("help")) {
            std::cout << kUsage << kGlobalHelp;
            return 0;
        }
        std::cerr << kUsage;
        throw UsageError("no command given");
    }
    // Everything after the command, in order (the global options already taken out); a --help
    // anywhere is the subcommand's.
    std::vector<std::string> rest =
        po::collect_unrecognized(parsed.options, po::include_positional);
    const std::string cmd = vm["command"].as<std::string>();
    rest.erase(std::find(rest.begin(), rest.end(), cmd));
    if (vm.count("help")) rest.emplace_back("--help");
    if (cmd == "status") return cmd_status(t, rest);
    if (cmd == "migrate") return cmd_migrate(t, rest);
    if (cmd == "upgrade") return cmd_upgrade(rest);
    if (cmd == "plugins") {
        if (rest.empty() || rest[0] == "--help" || rest[0] == "-h") {
            const bool asked = !rest.empty();
            (asked ? std::cout : std::cerr)
                << "usage: shopctl plugins list|check|swap|rollback|shadow|shadow-report|promote|"
                   "shadow-stop ... [--help]\n";
            if (asked) return 0;
            throw UsageError("no plugins subcommand given");
        }
        const std::string sub = rest[0];
        rest.erase(rest.begin());
        if (sub == "list") return cmd_list(t, rest);
        if (sub == "check") return cmd_check(t, rest);
        if (sub == "swap") return cmd_swap(t, rest, dir_given);
        if (sub == "rollback") return cmd_rollback(t, rest);
        if (sub == "shadow" || sub == "shadow-report" || sub == "promote" || sub == "shadow-stop")
            return cmd_shadow(t, rest, sub);
        throw UsageError("unknown plugins subcommand: " + sub + " (see shopctl --help)");
    }
    throw UsageError("unknown command: " + cmd + " (see shopctl --help)");
}

}  // namespace

int main(int argc, char **argv) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = 0;
    try {
        rc = run(argc, argv);
    } catch (const UsageError &e) {
        std::cerr << "shopctl: " << e.what() << '\n';
        rc = 2;
    } catch (const std::exception &e) {
        std::cerr << "shopctl: " << e.what() << '\n';
        rc = 1;
    }
    curl_global_cleanup();
    return rc;
}
