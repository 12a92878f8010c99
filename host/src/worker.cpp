// The worker process: serving threads, plugins, and its part of the supervision.
#include "worker.hpp"

#include "admin_tokens.hpp"
#include "crash_guard.hpp"
#include "host_api.hpp"
#include "log.hpp"
#include "notify.hpp"
#include "server.hpp"
#include "upgrade.hpp"

#include <sys/prctl.h>
#include <unistd.h>
#include <csignal>

#include <cstdio>
#include <cstring>
#include <thread>

namespace shopd::host {

ReloadOutcome Fleet::apply_manifest() {
    Manifest m{};
    shared_.manifest.read(m);
    ReloadOutcome outcome = registry_.apply(m);
    report(outcome, m);
    return outcome;
}

void Fleet::report(const ReloadOutcome &outcome, const Manifest &m) {
    WorkerReport r{};
    r.pid = getpid();
    const auto snap = registry_.snapshot();
    r.ready = snap != nullptr;
    r.applied_generation = m.generation;
    if (snap)
        for (const auto &p : snap->plugins) {
            if (r.plugin_count == kMaxPlugins) break;
            auto &slot = r.plugins[r.plugin_count++];
            copy_text(slot.name, p->name);
            copy_text(slot.version, p->desc->version);
            slot.serial = p->serial;
        }
    for (const auto &[name, reason] : outcome.refused) {
        std::uint32_t i = 0;
        while (i < r.plugin_count && name != r.plugins[i].name) ++i;
        if (i == kMaxPlugins) break;
        if (i == r.plugin_count) copy_text(r.plugins[r.plugin_count++].name, name);
        copy_text(r.plugins[i].error, reason);
        for (std::uint32_t e = 0; e < m.count; ++e)
            if (name == m.entries[e].name) r.plugins[i].refused_serial = m.entries[e].serial;
    }
    shared_.workers[slot_].write(r);
}

Manifest Fleet::manifest() const {
    Manifest m{};
    shared_.manifest.read(m);
    return m;
}

std::vector<WorkerReport> Fleet::workers() const { return shared_.live_workers(); }

bool Fleet::all_applied(std::uint64_t generation) const {
    for (const auto &w : workers())
        if (w.ready && w.applied_generation < generation) return false;
    return true;
}

bool Fleet::request_reload(ReloadRecord &record, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const auto wait_until = [&](auto done) {
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return true;
    };
    const std::uint64_t ticket = shared_.reload_requested.fetch_add(1) + 1;
    if (kill(shared_.master_pid.load(), SIGHUP) != 0) return false;
    if (!wait_until([&] { return shared_.reload_completed.load() >= ticket; })) return false;
    shared_.last_reload.read(record);
    const std::uint64_t generation = manifest().generation;
    return wait_until([&] { return all_applied(generation); });
}

CommandResult Fleet::command(const std::string &op, const std::string &name, const std::string &arg,
                             std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    CommandResult result{};
    result.status = 503;
    copy_text(result.message, "the host's master did not answer in time; try again");
    // One command at a time: take the channel (the master frees it if we die holding it).
    for (pid_t free = 0; !shared_.command_owner.compare_exchange_weak(free, getpid()); free = 0) {
        if (std::chrono::steady_clock::now() > deadline) return result;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    CommandRequest request{};
    request.ticket = shared_.command_tickets.fetch_add(1) + 1;
    copy_text(request.op, op);
    copy_text(request.name, name);
    copy_text(request.arg, arg);
    shared_.command.write(request);
    kill(shared_.master_pid.load(), SIGUSR1);
    for (;;) {
        CommandResult r{};
        shared_.command_result.read(r);
        if (r.ticket == request.ticket) {
            result = r;
            break;
        }
        if (std::chrono::steady_clock::now() > deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    shared_.command_owner.store(0);
    return result;
}

namespace {

/// Handles signals synchronously on one thread (sigwait), so reloads never run in a handler.
void signal_loop(sigset_t set, Server &server, Fleet &fleet, AdminTokens &admins) {
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) continue;
        if (sig == SIGHUP) {
            log_line(0, "host", admins.reload());
            const auto outcome = fleet.apply_manifest();
            if (!outcome.reloaded.empty() || !outcome.refused.empty())
                log_line(0, "host",
                         "reload: " + std::to_string(outcome.reloaded.size()) + " swapped, " +
                             std::to_string(outcome.refused.size()) + " refused");
        } else {
            log_line(0, "host", std::string("stopping on ") + strsignal(sig));
            if (sig == SIGUSR2) drain::set_gentle();  // replaced by an upgrade (upgrade.hpp)
            server.stop();
            return;
        }
    }
}

}  // namespace

void run_worker(const Config &config, SharedState &shared, std::size_t slot, int listen_fd,
                Metrics &metrics) {
    // A master killed outright takes its workers with it (they drain, then exit).
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != shared.master_pid.load()) _exit(0);
    heartbeat::set_slot(slot);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR2);
    install_crash_handlers();
    AdminTokens admins(config.admin_tokens, config.admin_token_file);
    install_host_globals(&config, &metrics);
    PluginRegistry registry(host_api(),
                            [](int level, const std::string &m) { log_line(level, "host", m); });
    Fleet fleet(shared, slot, registry);
    (void)fleet.apply_manifest();
    if (!registry.snapshot()) {
        (void)std::fflush(stderr);
        _exit(kExitPluginsRefused);
    }
    Server server(config, admins, registry, metrics, fleet, listen_fd);
    std::thread(signal_loop, set, std::ref(server), std::ref(fleet), std::ref(admins)).detach();
    const int rc = server.run();
    registry.shutdown_all();
    log_line(0, "host", "plugins shut down; worker exiting");
    (void)std::fflush(stderr);
    // A request that outlived the drain may still run on a detached thread; static destructors
    // must not pull the ground from under it, so exit without them.
    _exit(rc);
}

}  // namespace shopd::host
