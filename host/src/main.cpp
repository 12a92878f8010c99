// shopd: the FastCGI host. Parses config, loads plugins, serves until SIGTERM; SIGHUP hot-swaps
// plugins whose files changed.
#include "config.hpp"
#include "host_api.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "plugins.hpp"
#include "server.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <thread>

using namespace shopd::host;

namespace {

/// Handles signals synchronously on one thread (sigwait), so reloads never run in a handler.
void signal_loop(sigset_t set, Server &server, PluginRegistry &registry, AdminTokens &admins) {
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) continue;
        if (sig == SIGHUP) {
            log_line(0, "host", "SIGHUP: re-reading admin tokens, reloading changed plugins");
            log_line(0, "host", admins.reload());
            const auto outcome = registry.reload();
            log_line(0, "host",
                     "reload: " + std::to_string(outcome.reloaded.size()) + " swapped, " +
                         std::to_string(outcome.refused.size()) + " refused");
        } else {
            log_line(0, "host", std::string("stopping on ") + strsignal(sig));
            server.stop();
            return;
        }
    }
}

}  // namespace

int main(int argc, char **argv) {
    ParseResult parsed = parse_config(argc, argv);
    if (!parsed.config) {
        (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.message << std::endl;
        return parsed.exit_code;
    }
    const Config config = std::move(*parsed.config);
    AdminTokens admins(config.admin_tokens, config.admin_token_file);
    if (admins.size() == 0)
        log_line(1, "host", "no admin token configured: admin writes are refused");

    // Block the signals before any thread starts, so every thread inherits the mask and only
    // the signal thread receives them. SIGPIPE: a client that went away must not kill us.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    (void)pthread_sigmask(SIG_BLOCK, &set, nullptr);
    if (std::signal(SIGPIPE, SIG_IGN) == SIG_ERR) log_line(1, "host", "cannot ignore SIGPIPE");
    // libpq waits this long for a down database before a request gets its 503.
    setenv("PGCONNECT_TIMEOUT", "2", 0);

    Metrics metrics;
    install_host_globals(&config, &metrics);
    PluginRegistry registry(
        config.plugin_dir, config.plugins, host_api(),
        [](int level, const std::string &m) { log_line(level, "host", m); }, config.generation_dir);
    const auto errors = registry.load_all();
    if (!errors.empty()) {
        log_line(
            2, "host",
            "refusing to start: " + std::to_string(errors.size()) + " plugin(s) failed to load");
        return 1;
    }
    Server server(config, admins, registry, metrics);
    std::thread signals(signal_loop, set, std::ref(server), std::ref(registry), std::ref(admins));
    signals.detach();
    const int rc = server.run();
    registry.shutdown_all();
    registry.remove_generation_dir();
    log_line(0, "host", "plugins shut down; exiting");
    (void)std::fflush(stderr);
    // A request that outlived the drain may still run on a detached worker; static destructors
    // must not pull the ground from under it, so exit without them.
    std::_Exit(rc);
}
