// shopd: the FastCGI host. Parses config, opens the listening socket, checks and adopts the
// plugin files, then supervises the worker processes that load the plugins and serve
// (master.hpp, worker.hpp). SIGHUP hot-swaps plugins whose files changed; SIGTERM drains;
// SIGUSR2 re-executes a new build in place (upgrade.hpp). Under systemd: socket activation
// (listener.hpp), readiness and watchdog (notify.hpp).
#include "config.hpp"
#include "generations.hpp"
#include "host_api.hpp"
#include "listener.hpp"
#include "log.hpp"
#include "master.hpp"
#include "notify.hpp"
#include "shared_state.hpp"
#include "upgrade.hpp"
#include "worker_db.hpp"

#include <sys/resource.h>
#include <unistd.h>
#include <csignal>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

using namespace shopd::host;

namespace {

/// Raises the open-files limit to its hard maximum: every kept-alive nginx connection parked in
/// a worker holds a descriptor, and nginx may keep a thousand of them.
void raise_open_files_limit() {
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= lim.rlim_max) return;
    lim.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
        log_line(1, "master", "cannot raise the open-files limit");
}

/// The first manifest: every plugin's file checked and adopted, or the reason one is not.
std::string adopt_all(Generations &generations, SharedState &shared) {
    Manifest manifest{};
    const ReloadRecord first = generations.refresh(manifest);
    for (std::uint32_t i = 0; i < first.count; ++i)
        if (std::strcmp(first.plugins[i].outcome, "refused") == 0)
            return std::string("plugin ") + first.plugins[i].name + ": " + first.plugins[i].reason;
    shared.manifest.write(manifest);
    return "";
}

/// --check-config: every plugin checked in a throwaway child, the database URL parsed; nothing
/// is loaded into this process. Returns the exit code.
int check_config(const Config &config) {
    int failures = 0;
    try {
        (void)with_session_settings(config.database_url, "");
        std::cout << "database-url: ok\n";
    } catch (const std::exception &e) {
        std::cout << "database-url: " << e.what() << "\n";
        ++failures;
    }
    for (const auto &name : config.plugins) {
        const std::string file = config.plugin_dir + "/" + name + ".so";
        const CheckResult r = check_in_child(file, name, 5000, config.database_url);
        std::cout << "plugin " << name << " (" << file << "): "
                  << (r.ok ? r.version + ", ABI " + std::to_string(r.abi) + ", " + r.schema + ": ok"
                           : r.error)
                  << "\n";
        failures += r.ok ? 0 : 1;
    }
    std::cout << (failures == 0 ? "configuration ok\n" : "configuration refused\n");
    return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char **argv) {
    upgrade::remember(argc, argv);
    ParseResult parsed = parse_config(argc, argv);
    if (!parsed.config) {
        (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.message << std::endl;
        return parsed.exit_code;
    }
    const Config config = std::move(*parsed.config);
    if (config.check_config) {
        Metrics metrics;
        install_host_globals(&config, &metrics);  // the trial init() reads plugin options
        return check_config(config);
    }
    if (config.admin_tokens.empty() && config.admin_token_file.empty())
        log_line(1, "master", "no admin token configured: admin writes are refused");

    // Blocked before any fork, so workers inherit the mask; the master takes them with
    // sigtimedwait(). SIGPIPE: a client that went away must not kill a worker.
    sigset_t signals;
    sigemptyset(&signals);
    for (int sig : {SIGHUP, SIGTERM, SIGINT, SIGCHLD, SIGUSR1, SIGUSR2}) sigaddset(&signals, sig);
    (void)sigprocmask(SIG_BLOCK, &signals, nullptr);
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) log_line(1, "master", "cannot ignore SIGPIPE");
    // libpq waits this long for a down database before a request gets its 503.
    setenv("PGCONNECT_TIMEOUT", "2", 0);

    raise_open_files_limit();
    std::string error;
    // systemd's socket (shopd.socket), or the one an upgraded executable handed over.
    int listen_fd = inherited_listener(error);
    const bool inherited = listen_fd >= 0;
    if (listen_fd == -1) listen_fd = open_listener(config.listen, config.socket_mode, error);
    if (listen_fd < 0) {
        log_line(2, "master", error);
        return 1;
    }
    // Before the first fork (shared memory), and installed here too: the plugin check's trial
    // init() reads the configuration through the host API.
    Metrics metrics;
    install_host_globals(&config, &metrics);
    SharedState &shared = *SharedState::create();
    shared.master_pid = getpid();
    heartbeat::create();
    Generations generations(config.plugin_dir, config.plugins, config.generation_dir,
                            config.database_url);
    error = adopt_all(generations, shared);
    if (!error.empty()) {
        log_line(2, "master", "refusing to start: " + error);
        return 1;
    }
    log_line(0, "master",
             "listening on " + (inherited ? "an inherited socket" : config.listen) + ": " +
                 std::to_string(config.processes) + " worker processes x " +
                 std::to_string(config.workers) + " threads");
    const int rc = supervise(config, shared, generations, metrics, listen_fd, signals);
    (void)std::fflush(stderr);
    return rc;
}
