// Host configuration parsing with Boost.Program_options.
#include "config.hpp"

#include "shared_state.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace po = boost::program_options;

namespace shopd::host {

std::vector<std::string> split_list(const std::string &text) {
    std::vector<std::string> out;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        const auto b = item.find_first_not_of(" \t");
        const auto e = item.find_last_not_of(" \t");
        if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
    }
    return out;
}

namespace {

/// Old spellings of plugin options, kept working: flag -> `<plugin>.<key>`.
const std::pair<const char *, const char *> kPluginOptionAliases[] = {
    {"reservation-ttl", "checkout.reservation-ttl"},
};

po::options_description describe(Config &c, std::string &plugins, std::string &cors_origins,
                                 std::string &admin_tokens, std::string &config_file,
                                 std::string &socket_mode) {
    po::options_description d(
        "shopd options (each also as env SHOPD_<NAME>, e.g. SHOPD_DATABASE_URL)");
    auto add = d.add_options();
    add("help,h", "print this help and exit");
    add("check-config", po::bool_switch(&c.check_config),
        "validate the flags, config file and environment, and check every plugin file in a "
        "throwaway process (entry point, ABI, build signature, init with these options); print "
        "the verdict and exit (0: the host would start)");
    add("config", po::value(&config_file),
        "INI-style config file; a [<plugin>] section holds that plugin's options");
    add("listen", po::value(&c.listen)->default_value(c.listen),
        "FastCGI socket: unix:/path or host:port");
    add("processes", po::value(&c.processes)->default_value(0),
        "worker processes under the supervising master (a crash takes down one); 0 = one per "
        "core");
    add("workers", po::value(&c.workers)->default_value(0),
        "worker threads per process, each with its own DB connection; 0 = 4 x cores in total, "
        "split across the processes");
    add("max-requests", po::value(&c.max_requests)->default_value(0),
        "recycle a worker process after this many requests (0 = never)");
    add("socket-mode", po::value(&socket_mode)->default_value("0660"),
        "permissions of a unix listening socket (octal; give nginx's user the socket's group)");
    add("public-url", po::value(&c.public_url),
        "scheme://host[:port] that absolute links (pagination) start with; unset: the request's "
        "Host header, which a client controls");
    add("database-url", po::value(&c.database_url), "PostgreSQL connection URL");
    add("plugin-dir", po::value(&c.plugin_dir)->default_value(c.plugin_dir),
        "directory holding <name>.so plugins");
    add("plugins", po::value(&plugins)->default_value("catalog,customers,pricing,cart,checkout"),
        "plugins to load, in init order");
    add("admin-token", po::value(&admin_tokens),
        "admin bearer token(s), a comma list (rotation: add the new one, move clients, remove the "
        "old); none and no file: admin writes refused");
    add("admin-token-file", po::value(&c.admin_token_file),
        "file of admin tokens, one per line ('#' comments), re-read on SIGHUP; keeps tokens off "
        "the command line");
    add("generation-dir", po::value(&c.generation_dir),
        "directory for the private copy each loaded plugin generation is made from (must allow "
        "exec; default: the system temp dir)");
    add("cors-origins", po::value(&cors_origins)->default_value(""),
        "comma list of origins a browser may call from, e.g. https://shop.example (empty: none)");
    add("statement-timeout-ms",
        po::value(&c.statement_timeout_ms)->default_value(c.statement_timeout_ms),
        "PostgreSQL statement_timeout of every worker connection: a statement running longer is "
        "cancelled (503 + Retry-After), so no worker is held after nginx gave up (60 s)");
    add("lock-timeout-ms", po::value(&c.lock_timeout_ms)->default_value(c.lock_timeout_ms),
        "how long a request waits for a row lock before answering 409 (lock_timeout of every "
        "worker connection)");
    add("reservation-ttl", po::value<std::string>(),
        "alias of --checkout.reservation-ttl: seconds until an ACTIVE reservation expires "
        "(default 300)");
    add("max-body-bytes", po::value(&c.max_body_bytes)->default_value(c.max_body_bytes),
        "largest request body accepted (larger -> 413)");
    return d;
}

std::string env_to_option(const po::options_description &d, const std::string &env) {
    // SHOPD_DATABASE_URL -> database-url; unknown SHOPD_* variables (SHOPD_URL...) are ignored.
    const std::string prefix = "SHOPD_";
    if (env.rfind(prefix, 0) != 0) return "";
    std::string name;
    for (char ch : env.substr(prefix.size()))
        name += ch == '_' ? '-' : static_cast<char>(std::tolower(ch));
    return d.find_nothrow(name, false) ? name : "";
}

/// Keeps the `<plugin>.<key>` options of a parse in `values`; any other unknown option is an error.
void keep_plugin_options(const po::parsed_options &parsed, Config &c) {
    for (const auto &opt : parsed.options) {
        if (!opt.unregistered) continue;
        if (opt.string_key.find('.') == std::string::npos) throw po::unknown_option(opt.string_key);
        // Unknown to the parser, a plugin option cannot take its value from the next word.
        if (opt.value.size() != 1)
            throw std::invalid_argument("plugin option " + opt.string_key + " needs a value: --" +
                                        opt.string_key + "=VALUE");
        c.values.emplace(opt.string_key, opt.value.front());  // the first source wins
    }
}

void apply_aliases(const po::variables_map &vm, Config &c) {
    for (const auto &[alias, key] : kPluginOptionAliases)
        if (vm.count(alias)) c.values.emplace(key, vm[alias].as<std::string>());
}

/// Fills in the defaults that depend on others and checks ranges; returns "" or the complaint.
std::string finish(Config &c, const std::string &socket_mode) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    if (c.processes == 0) c.processes = cores;
    if (c.processes > kMaxProcesses)
        return "processes must be at most " + std::to_string(kMaxProcesses);
    // About 4 database connections per core in total: workers block on the database.
    if (c.workers == 0)
        c.workers = std::max(2u, (4 * std::max(2u, cores) + c.processes - 1) / c.processes);
    if (c.lock_timeout_ms < 1 || c.statement_timeout_ms < 1 || c.max_body_bytes < 1)
        return "lock-timeout-ms, statement-timeout-ms and max-body-bytes must be positive";
    if (c.plugins.size() > kMaxPlugins)
        return "at most " + std::to_string(kMaxPlugins) + " plugins";
    char *end = nullptr;
    const unsigned long mode = std::strtoul(socket_mode.c_str(), &end, 8);
    if (socket_mode.empty() || *end != '\0' || mode > 0777)
        return "socket-mode \"" + socket_mode + "\" is not an octal mode like 0660";
    c.socket_mode = static_cast<unsigned>(mode);
    while (!c.public_url.empty() && c.public_url.back() == '/') c.public_url.pop_back();
    if (!c.public_url.empty() && c.public_url.rfind("http://", 0) != 0 &&
        c.public_url.rfind("https://", 0) != 0)
        return "public-url must start with http:// or https://";
    return "";
}

}  // namespace

ParseResult parse_config(int argc, const char *const argv[]) {
    Config c;
    std::string plugins, cors_origins, admin_tokens, config_file, socket_mode;
    auto desc = describe(c, plugins, cors_origins, admin_tokens, config_file, socket_mode);
    po::variables_map vm;
    ParseResult result;
    try {
        const auto cli =
            po::command_line_parser(argc, argv)
                .options(desc)
                // No abbreviations: "--lock-timeout=5" must not quietly mean --lock-timeout-ms.
                .style(po::command_line_style::default_style &
                       ~po::command_line_style::allow_guessing)
                .allow_unregistered()
                .run();
        keep_plugin_options(cli, c);
        po::store(cli, vm);
        if (vm.count("help")) {
            std::ostringstream out;
            out << "usage: shopd [options]\n\n" << desc;
            result.message = out.str();
            return result;
        }
        if (vm.count("config")) {
            const std::string path = vm["config"].as<std::string>();
            std::ifstream in(path);
            if (!in) throw std::runtime_error("cannot read config file " + path);
            // allow_unregistered: plugin sections ([checkout] reservation-ttl=...) are the plugins'
            // own.
            const auto parsed = po::parse_config_file(in, desc, true);
            keep_plugin_options(parsed, c);
            po::store(parsed, vm);
        }
        po::store(po::parse_environment(
                      desc, [&desc](const std::string &env) { return env_to_option(desc, env); }),
                  vm);
        po::notify(vm);
        apply_aliases(vm, c);
    } catch (const std::exception &e) {
        result.message = std::string("shopd: ") + e.what() + "\n(see shopd --help)";
        result.exit_code = 2;
        return result;
    }
    c.plugins = split_list(plugins);
    c.cors_origins = split_list(cors_origins);
    c.admin_tokens = split_list(admin_tokens);
    result.message = finish(c, socket_mode);
    if (!result.message.empty()) {
        result.message = "shopd: " + result.message + "\n(see shopd --help)";
        result.exit_code = 2;
        return result;
    }
    c.values["listen"] = c.listen;
    c.values["workers"] = std::to_string(c.workers);
    c.values["processes"] = std::to_string(c.processes);
    c.values["plugin-dir"] = c.plugin_dir;
    c.values["lock-timeout-ms"] = std::to_string(c.lock_timeout_ms);
    c.values["max-body-bytes"] = std::to_string(c.max_body_bytes);
    result.config = std::move(c);
    return result;
}

}  // namespace shopd::host
