// The master's plugin decisions: reload (adopt changed files, publish, revert what workers
// refuse), and the operators' commands that workers pass on (rollback).
#include "log.hpp"
#include "master_impl.hpp"

#include <csignal>
#include <thread>

namespace shopd::host {

using std::chrono::milliseconds;

/// Decides once which file serves for each plugin, then makes every worker load it. A
/// generation that a worker refuses (its init failed) or dies loading is reverted
/// everywhere, so every worker, also one respawned later, serves the same code (and a
/// plugin that crashes on load cannot keep the workers from coming back).
void Master::reload() {
    const std::uint64_t tickets = shared_.reload_requested.load();
    log_line(0, "master", "SIGHUP: reloading changed plugins, re-reading admin tokens");
    Manifest m{};
    shared_.manifest.read(m);
    ReloadRecord record = generations_.refresh(m);
    const std::uint64_t deaths = deaths_;
    publish(m);
    const bool reverted =
        deaths_ > deaths
            ? generations_.revert_reloaded(m, record, "a worker " + last_death_ + " loading it")
            : generations_.revert_refused(m, record, reports());
    if (reverted) publish(m);
    shared_.last_reload.write(record);
    for (std::uint32_t i = 0; i < record.count; ++i)
        if (std::string(record.plugins[i].outcome) == "reloaded")
            metrics_.count_plugin_swap(record.plugins[i].name);
    shared_.reload_completed.store(tickets);
}

/// Publishes `m` and waits (bounded) until every live worker applied it.
void Master::publish(const Manifest &m) {
    shared_.manifest.write(m);
    for (const Child &c : children_)
        if (c.pid > 0) kill(c.pid, SIGHUP);
    const auto deadline = Clock::now() + std::chrono::seconds(15);
    for (int i = 1; Clock::now() < deadline && !all_applied(m.generation); ++i) {
        std::this_thread::sleep_for(milliseconds(5));
        (void)reap();  // a worker that died meanwhile is not waited for
        // Waiting may take longer than half the watchdog interval: healthy workers keep it fed.
        if (i % 20 == 0) systemd_.tick(pids(), reports());
    }
}

bool Master::all_applied(std::uint64_t generation) const {
    for (std::size_t i = 0; i < children_.size(); ++i) {
        WorkerReport r{};
        shared_.workers[i].read(r);
        if (children_[i].pid > 0 && r.ready && r.applied_generation < generation) return false;
    }
    return true;
}

/// Runs the command a worker left in the shared state (SIGUSR1), once per ticket.
void Master::run_command() {
    CommandRequest c{};
    shared_.command.read(c);
    if (c.ticket == 0 || c.ticket == last_command_) return;
    last_command_ = c.ticket;
    CommandResult r{};
    const std::string op = c.op;
    if (op == "rollback") {
        r = rollback(c.name);
    } else if (op == "shadow") {
        r = shadow_start(c.name, c.arg);
    } else if (op == "shadow-stop") {
        r = shadow_stop(c.name);
    } else if (op == "promote") {
        r = promote(c.name);
    } else {
        r.status = 400;
        copy_text(r.message, "unknown command \"" + std::string(c.op) + "\"");
    }
    r.ticket = c.ticket;
    shared_.command_result.write(r);
}

/// The previous generation of `name` serves again in every worker, and stays the decision: a
/// respawned worker loads it too, and the file rolled back from is not adopted again until it
/// changes.
CommandResult Master::rollback(const std::string &name) {
    CommandResult r{};
    Manifest m{};
    shared_.manifest.read(m);
    for (std::uint32_t i = 0; i < m.count; ++i) {
        if (name != m.entries[i].name) continue;
        const std::string from = m.entries[i].version;
        if (!generations_.revert(name, m.entries[i])) {
            r.status = 409;
            copy_text(r.message, "plugin " + name + " has no previous generation to roll back to");
            return r;
        }
        ++m.generation;
        publish(m);
        metrics_.count_plugin_swap(name);
        std::string what = "rolled back ";
        what.append(name).append(" from ").append(from).append(" to ").append(m.entries[i].version);
        log_line(0, "master", what);
        r.status = 200;
        copy_text(r.message, what);
        return r;
    }
    r.status = 404;
    copy_text(r.message, "no plugin named " + name);
    return r;
}

}  // namespace shopd::host
