// The master's loop over its worker processes: spawn, reap, respawn with back-off, drain.
#include "master.hpp"

#include "log.hpp"
#include "master_impl.hpp"
#include "worker.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace shopd::host {

using std::chrono::milliseconds;

std::string describe_exit(int status) {
    if (WIFSIGNALED(status))
        return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
               strsignal(WTERMSIG(status)) + ")";
    return "exited with status " + std::to_string(WEXITSTATUS(status));
}

milliseconds respawn_backoff(milliseconds previous, std::chrono::steady_clock::time_point started) {
    const bool at_once = std::chrono::steady_clock::now() - started < std::chrono::seconds(2);
    return at_once ? std::min(milliseconds(30000), std::max(milliseconds(250), previous * 2))
                   : milliseconds(0);
}

int Master::run(const sigset_t &signals) {
    for (std::size_t i = 0; i < children_.size(); ++i) spawn(i);
    for (;;) {
        const timespec tick{0, 100L * 1000 * 1000};
        const int sig = sigtimedwait(&signals, nullptr, &tick);
        if (sig == SIGTERM || sig == SIGINT) {
            log_line(0, "master", std::string("stopping on ") + strsignal(sig));
            return drain();
        }
        if (sig == SIGHUP) {
            systemd_.reloading();
            reload();
            systemd_.reloaded(pids(), reports());
        }
        if (sig == SIGUSR1) run_command();
        if (sig == SIGUSR2) upgrade();
        if (!reap()) return drain(1);
        respawn_due();
        respawn_shadow_due();
        systemd_.tick(pids(), reports());
        old_.tick(systemd_.ready());
    }
}

std::vector<pid_t> Master::pids() const {
    std::vector<pid_t> v;
    for (const Child &c : children_) v.push_back(c.pid);
    return v;
}

/// Re-executes in place (upgrade.hpp); returns only when refused, and then keeps serving.
void Master::upgrade() {
    if (old_.pending()) {
        log_line(1, "master", "SIGUSR2 ignored: the previous upgrade is still draining");
        return;
    }
    Manifest m{};
    shared_.manifest.read(m);
    const std::string copy = m.count > 0 ? m.entries[0].copy : "";
    systemd_.reloading();
    // A shadow process ends with the old workers: the new image starts without a shadow.
    std::vector<pid_t> old = pids();
    if (shadow_pid_ > 0) old.push_back(shadow_pid_);
    upgrade::exec_new(listen_fd_, old, copy.substr(0, copy.rfind('/')));
    systemd_.reloaded(pids(), reports());
}

void Master::spawn(std::size_t slot) {
    Child &c = children_[slot];
    const pid_t pid = fork();
    if (pid == 0) run_worker(config_, shared_, slot, listen_fd_, metrics_);
    if (pid < 0) {
        log_line(2, "master", std::string("fork failed: ") + std::strerror(errno));
        c.respawn_at = Clock::now() + milliseconds(1000);
        return;
    }
    c.pid = pid;
    c.started = Clock::now();
    heartbeat::reset(slot);
    log_line(0, "master",
             "worker " + std::to_string(slot) + " started (pid " + std::to_string(pid) + ")");
}

/// Collects dead workers and schedules their respawn; false when starting up failed.
bool Master::reap() {
    if (!ever_ready_)
        for (const auto &r : reports()) ever_ready_ = ever_ready_ || r.ready;
    int status = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        const auto it = std::find_if(children_.begin(), children_.end(),
                                     [pid](const Child &c) { return c.pid == pid; });
        if (it == children_.end()) {
            (void)reap_shadow(pid, status);
            continue;
        }
        const std::size_t slot = static_cast<std::size_t>(it - children_.begin());
        shared_.workers[slot].reset();
        it->pid = 0;
        pid_t owner = pid;  // a command it was waiting for must not block the next ones
        shared_.command_owner.compare_exchange_strong(owner, 0);
        ++deaths_;
        last_death_ = describe_exit(status);
        const bool refused = WIFEXITED(status) && WEXITSTATUS(status) == kExitPluginsRefused;
        if (refused && !ever_ready_) {
            log_line(2, "master", "refusing to start: a worker could not load its plugins");
            return false;
        }
        const bool planned = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        it->backoff = planned ? milliseconds(0) : respawn_backoff(it->backoff, it->started);
        it->respawn_at = Clock::now() + it->backoff;
        log_line(planned ? 0 : 2, "master",
                 "worker " + std::to_string(slot) + " (pid " + std::to_string(pid) + ") " +
                     describe_exit(status) + "; respawning in " +
                     std::to_string(it->backoff.count()) + " ms");
    }
    return true;
}

void Master::respawn_due() {
    const auto now = Clock::now();
    for (std::size_t i = 0; i < children_.size(); ++i)
        if (children_[i].pid == 0 && now >= children_[i].respawn_at) spawn(i);
}

std::vector<WorkerReport> Master::reports() const { return shared_.live_workers(); }

/// SIGTERM to every worker (they finish in-flight requests), wait, then SIGKILL stragglers.
int Master::drain(int rc) {
    stop_shadow();
    systemd_.stopping();
    for (const Child &c : children_)
        if (c.pid > 0) kill(c.pid, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    for (;;) {
        const bool any = std::any_of(children_.begin(), children_.end(),
                                     [](const Child &c) { return c.pid > 0; });
        if (!any) break;
        if (Clock::now() > deadline) {
            for (const Child &c : children_)
                if (c.pid > 0) kill(c.pid, SIGKILL);
        }
        int status = 0;
        const pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0 && errno == ECHILD) break;
        for (Child &c : children_)
            if (c.pid == pid) c.pid = 0;
    }
    generations_.remove_dir();
    log_line(0, "master", "all workers stopped; exiting");
    return rc;
}

int supervise(const Config &config, SharedState &shared, Generations &generations, Metrics &metrics,
              int listen_fd, const sigset_t &signals) {
    Master master(config, shared, generations, metrics, listen_fd);
    return master.run(signals);
}

}  // namespace shopd::host
