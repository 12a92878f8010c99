// The master's side of shadow mode: start a candidate in a shadow process of its own, respawn it
// when it crashes, stop it, promote it to serve. Like every plugin file, the candidate is
// checked in a throwaway child before anything loads it, and the master never runs its code.
#include "log.hpp"
#include "master_impl.hpp"
#include "shadow.hpp"

#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <algorithm>
#include <cstring>

namespace shopd::host {

using std::chrono::milliseconds;

namespace {
CommandResult result(int status, const std::string &message) {
    CommandResult r{};
    r.status = status;
    copy_text(r.message, message);
    return r;
}
}  // namespace

/// Publishes the shadow's state for the workers (the admin API reads it there).
void Master::write_shadow_control(const char *state, const std::string &error) {
    ShadowControl c{};
    if (shadow_.serial != 0) {
        c.serial = shadow_.serial;
        copy_text(c.name, shadow_.name);
        copy_text(c.version, shadow_.version);
        copy_text(c.copy, shadow_.copy);
        copy_text(c.path, shadow_.source);
        copy_text(c.started_at, shadow_.loaded_at);
        copy_text(c.state, state);
        copy_text(c.error, error);
    }
    shared_.shadow.control.write(c);
    shared_.shadow.serial.store(c.serial, std::memory_order_release);
}

CommandResult Master::shadow_start(const std::string &name, const std::string &path) {
    Manifest m{};
    shared_.manifest.read(m);
    const bool known = std::any_of(m.entries, m.entries + m.count,
                                   [&](const ManifestEntry &e) { return name == e.name; });
    if (!known) return result(404, "no plugin named " + name);
    if (path.empty() || path[0] != '/') return result(400, "\"path\" must be an absolute path");
    if (shadow_.serial != 0 && name != shadow_.name)
        return result(409,
                      std::string("a shadow of ") + shadow_.name + " is running; stop it first");
    ManifestEntry candidate{};
    std::string error;
    if (!generations_.stage(name, path, candidate, error))
        return result(422, "candidate refused: " + error);
    stop_shadow();  // a new candidate replaces the one before
    shared_.shadow.stats.clear();
    shadow_ = candidate;
    shadow_backoff_ = milliseconds(0);
    write_shadow_control("running", "");
    spawn_shadow();
    std::string what = "shadow of " + name + " started: candidate ";
    what.append(candidate.version).append(" from ").append(path);
    log_line(0, "master", what);
    return result(201, what);
}

void Master::spawn_shadow() {
    const pid_t pid = fork();
    if (pid == 0) run_shadow(config_, shared_, shadow_);
    if (pid < 0) {
        log_line(2, "master", std::string("fork failed: ") + std::strerror(errno));
        shadow_respawn_at_ = Clock::now() + milliseconds(1000);
        return;
    }
    shadow_pid_ = pid;
    shadow_started_ = Clock::now();
}

/// Kills the shadow process (it answers no client: nothing to drain) and forgets the candidate.
void Master::stop_shadow(bool keep_copy) {
    if (shadow_pid_ > 0) {
        kill(shadow_pid_, SIGKILL);
        int status = 0;
        waitpid(shadow_pid_, &status, 0);
        shadow_pid_ = 0;
    }
    if (!keep_copy) generations_.drop_candidate(shadow_);
    shadow_ = ManifestEntry{};
    write_shadow_control("", "");
}

CommandResult Master::shadow_stop(const std::string &name) {
    if (shadow_.serial == 0 || name != shadow_.name)
        return result(404, "no shadow of " + name + " is running");
    stop_shadow();
    log_line(0, "master", "shadow of " + name + " stopped");
    return result(204, "");
}

bool Master::reap_shadow(pid_t pid, int status) {
    if (pid != shadow_pid_ || pid <= 0) return false;
    shadow_pid_ = 0;
    ShadowStats &stats = shared_.shadow.stats;
    if (WIFEXITED(status) && WEXITSTATUS(status) == kExitCandidateRefused) {
        write_shadow_control("refused", "the candidate did not load in the shadow process");
        return true;  // not respawned: it would refuse again
    }
    // What it was comparing is lost with it; its half-written example record is repaired.
    stats.crashes.fetch_add(1);
    stats.failed.fetch_add(stats.in_flight.exchange(0));
    ShadowExamples kept{};
    stats.examples.read(kept);
    stats.examples.reset();
    stats.examples.write(kept);
    shadow_backoff_ = respawn_backoff(shadow_backoff_, shadow_started_);
    shadow_respawn_at_ = Clock::now() + shadow_backoff_;
    const std::string why = "shadow process (pid " + std::to_string(pid) + ") " +
                            describe_exit(status) + "; respawning in " +
                            std::to_string(shadow_backoff_.count()) + " ms";
    log_line(2, "master", why);
    write_shadow_control("crashed", why);
    return true;
}

void Master::respawn_shadow_due() {
    if (shadow_.serial == 0 || shadow_pid_ > 0 || Clock::now() < shadow_respawn_at_) return;
    ShadowControl c{};
    shared_.shadow.control.read(c);
    if (std::string(c.state) == "refused") return;
    spawn_shadow();
    write_shadow_control("running", c.error);
}

/// The candidate serves: it becomes the plugin's generation in every worker (the one serving
/// before is kept for a rollback) and the shadow stops.
CommandResult Master::promote(const std::string &name) {
    if (shadow_.serial == 0 || name != shadow_.name)
        return result(409, "no shadow of " + name + " to promote");
    Manifest m{};
    shared_.manifest.read(m);
    ManifestEntry *entry = std::find_if(m.entries, m.entries + m.count,
                                        [&](const ManifestEntry &e) { return name == e.name; });
    if (entry == m.entries + m.count) return result(404, "no plugin named " + name);
    const std::string from = entry->version, to = shadow_.version;
    std::string note;
    const ManifestEntry candidate = shadow_;
    stop_shadow(true);
    generations_.promote_candidate(candidate, *entry, note);
    ++m.generation;
    publish(m);
    ReloadRecord record{};
    if (generations_.revert_refused(m, record, reports())) {
        publish(m);
        return result(409, "a worker refused " + name + " " + to + "; " + from + " serves again");
    }
    metrics_.count_plugin_swap(name);
    const std::string what = "promoted " + name + " from " + from + " to " + to + note;
    log_line(0, "master", what);
    return result(200, what);
}

}  // namespace shopd::host
