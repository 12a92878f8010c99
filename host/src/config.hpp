// Host configuration: flags, an optional config file and SHOPD_* environment variables.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace shopd::host {

struct Config {
    std::string listen = "127.0.0.1:9000";  ///< "unix:/path/to.sock" or "host:port"
    unsigned processes = 0;                 ///< worker processes under the master; 0: one per core
    unsigned workers = 0;                   ///< threads per process; 0: about 4 x cores in total
    std::uint64_t max_requests = 0;  ///< a worker process is recycled after this many; 0: never
    unsigned socket_mode = 0660;     ///< permissions of a unix listening socket
    std::string public_url;          ///< scheme://host[:port] of absolute links; "": from Host
    bool check_config = false;       ///< --check-config: validate, then exit
    std::string database_url;        ///< libpq URL or key=value string
    std::string plugin_dir = "plugins";
    std::vector<std::string> plugins;       ///< load order = init order
    std::vector<std::string> admin_tokens;  ///< --admin-token: a comma list
    std::string admin_token_file;           ///< one token per line, re-read on SIGHUP
    std::string generation_dir;             ///< where private plugin copies are made
    std::vector<std::string> cors_origins;  ///< origins allowed to call from a browser
    std::int64_t lock_timeout_ms = 2000;
    std::int64_t statement_timeout_ms = 30000;  ///< below nginx's fastcgi_read_timeout (60 s)
    std::int64_t max_body_bytes = 1 << 20;
    /// Every setting as text for host->config(), including plugin options `<plugin>.<key>`
    /// ("checkout.reservation-ttl"), which the plugins parse and validate in their init.
    std::map<std::string, std::string> values;
};

/// Outcome of parsing: a config, or a message to print and an exit code (e.g. after --help).
struct ParseResult {
    std::optional<Config> config;
    std::string message;
    int exit_code = 0;
};

/// Parses argv, then the file named by --config, then SHOPD_* environment variables; earlier
/// sources win (flags over file over environment), as Boost.Program_options stores them.
/// Plugin options come as flags `--<plugin>.<key>=value` or as `<key>` in a `[<plugin>]`
/// section of the file; any other unknown option is an error.
ParseResult parse_config(int argc, const char *const argv[]);

/// Splits "a, b,c" into {"a","b","c"}.
std::vector<std::string> split_list(const std::string &text);

}  // namespace shopd::host
