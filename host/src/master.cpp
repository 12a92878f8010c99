// The master's loop: spawn, reap, respawn, reload, drain.
#include "master.hpp"

#include "generations.hpp"
#include "listener.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "shared_state.hpp"
#include "worker.hpp"

#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

namespace shopd::host {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Child {
    pid_t pid = 0;
    Clock::time_point started{};
    Clock::time_point respawn_at{};
    milliseconds backoff{0};
};

std::string describe_exit(int status) {
    if (WIFSIGNALED(status))
        return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
               strsignal(WTERMSIG(status)) + ")";
    return "exited with status " + std::to_string(WEXITSTATUS(status));
}

class Master {
public:
    Master(const Config &config, SharedState &shared, Generations &generations, Metrics &metrics,
           int listen_fd)
        : config_(config), shared_(shared), generations_(generations), listen_fd_(listen_fd),
          metrics_(metrics), children_(config.processes) {}

    int run(const sigset_t &signals) {
        for (std::size_t i = 0; i < children_.size(); ++i) spawn(i);
        for (;;) {
            const timespec tick{0, 100L * 1000 * 1000};
            const int sig = sigtimedwait(&signals, nullptr, &tick);
            if (sig == SIGTERM || sig == SIGINT) {
                log_line(0, "master", std::string("stopping on ") + strsignal(sig));
                return drain();
            }
            if (sig == SIGHUP) reload();
            if (!reap()) return drain(1);
            respawn_due();
        }
    }

private:
    void spawn(std::size_t slot) {
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
        log_line(0, "master",
                 "worker " + std::to_string(slot) + " started (pid " + std::to_string(pid) + ")");
    }

    /// Collects dead workers and schedules their respawn; false when starting up failed.
    bool reap() {
        if (!ever_ready_)
            for (const auto &r : reports()) ever_ready_ = ever_ready_ || r.ready;
        int status = 0;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            const auto it = std::find_if(children_.begin(), children_.end(),
                                         [pid](const Child &c) { return c.pid == pid; });
            if (it == children_.end()) continue;
            const std::size_t slot = static_cast<std::size_t>(it - children_.begin());
            shared_.workers[slot].reset();
            it->pid = 0;
            ++deaths_;
            last_death_ = describe_exit(status);
            const bool refused = WIFEXITED(status) && WEXITSTATUS(status) == kExitPluginsRefused;
            if (refused && !ever_ready_) {
                log_line(2, "master", "refusing to start: a worker could not load its plugins");
                return false;
            }
            const bool planned = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            const bool at_once = Clock::now() - it->started < std::chrono::seconds(2);
            it->backoff =
                planned || !at_once
                    ? milliseconds(0)
                    : std::min(milliseconds(30000), std::max(milliseconds(250), it->backoff * 2));
            it->respawn_at = Clock::now() + it->backoff;
            log_line(planned ? 0 : 2, "master",
                     "worker " + std::to_string(slot) + " (pid " + std::to_string(pid) + ") " +
                         describe_exit(status) + "; respawning in " +
                         std::to_string(it->backoff.count()) + " ms");
        }
        return true;
    }

    void respawn_due() {
        const auto now = Clock::now();
        for (std::size_t i = 0; i < children_.size(); ++i)
            if (children_[i].pid == 0 && now >= children_[i].respawn_at) spawn(i);
    }

    /// Decides once which file serves for each plugin, then makes every worker load it. A
    /// generation that a worker refuses (its init failed) or dies loading is reverted
    /// everywhere, so every worker, also one respawned later, serves the same code (and a
    /// plugin that crashes on load cannot keep the workers from coming back).
    void reload() {
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
        shared_.reload_completed.store(tickets);
    }

    std::vector<WorkerReport> reports() const {
        std::vector<WorkerReport> out;
        for (const auto &w : shared_.workers) {
            WorkerReport r{};
            w.read(r);
            if (r.pid != 0) out.push_back(r);
        }
        return out;
    }

    /// Publishes `m` and waits (bounded) until every live worker applied it.
    void publish(const Manifest &m) {
        shared_.manifest.write(m);
        for (const Child &c : children_)
            if (c.pid > 0) kill(c.pid, SIGHUP);
        const auto deadline = Clock::now() + std::chrono::seconds(15);
        while (Clock::now() < deadline && !all_applied(m.generation)) {
            std::this_thread::sleep_for(milliseconds(5));
            (void)reap();  // a worker that died meanwhile is not waited for
        }
    }

    bool all_applied(std::uint64_t generation) const {
        for (std::size_t i = 0; i < children_.size(); ++i) {
            WorkerReport r{};
            shared_.workers[i].read(r);
            if (children_[i].pid > 0 && r.ready && r.applied_generation < generation) return false;
        }
        return true;
    }

    /// SIGTERM to every worker (they finish in-flight requests), wait, then SIGKILL stragglers.
    int drain(int rc = 0) {
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

    const Config &config_;
    SharedState &shared_;
    Generations &generations_;
    const int listen_fd_;
    Metrics &metrics_;  ///< shared memory: made before the first fork, summed over all workers
    std::vector<Child> children_;
    bool ever_ready_ = false;
    std::uint64_t deaths_ = 0;  ///< workers reaped so far
    std::string last_death_;    ///< how the last one ended
};

}  // namespace

int supervise(const Config &config, SharedState &shared, Generations &generations, Metrics &metrics,
              int listen_fd, const sigset_t &signals) {
    Master master(config, shared, generations, metrics, listen_fd);
    return master.run(signals);
}

}  // namespace shopd::host
