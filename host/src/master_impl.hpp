// The supervising master's state and steps, shared by master.cpp (worker processes: spawn,
// reap, respawn, drain) and master_plugins.cpp (plugin generations: reload, rollback, the
// operators' commands). Internal to the host.
#pragma once

#include "config.hpp"
#include "generations.hpp"
#include "metrics.hpp"
#include "notify.hpp"
#include "shared_state.hpp"
#include "upgrade.hpp"

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <string>
#include <vector>

namespace shopd::host {

/// "killed by signal 11 (Segmentation fault)" or "exited with status 3".
std::string describe_exit(int status);

/// How long to wait before starting again a process (worker or shadow) that died: nothing when
/// it ran 2 s or more, else 250 ms doubling up to 30 s (a process that dies at start must not
/// spin).
std::chrono::milliseconds respawn_backoff(std::chrono::milliseconds previous,
                                          std::chrono::steady_clock::time_point started);

class Master {
public:
    Master(const Config &config, SharedState &shared, Generations &generations, Metrics &metrics,
           int listen_fd)
        : config_(config), shared_(shared), generations_(generations), listen_fd_(listen_fd),
          metrics_(metrics), children_(config.processes), systemd_(config.database_url) {}

    /// Forks the workers and supervises them until SIGTERM/SIGINT; returns the exit code.
    int run(const sigset_t &signals);

private:
    using Clock = std::chrono::steady_clock;
    struct Child {
        pid_t pid = 0;
        Clock::time_point started{};
        Clock::time_point respawn_at{};
        std::chrono::milliseconds backoff{0};
    };

    // master.cpp
    void spawn(std::size_t slot);
    bool reap();
    void respawn_due();
    int drain(int rc = 0);
    std::vector<WorkerReport> reports() const;
    std::vector<pid_t> pids() const;
    void upgrade();  // SIGUSR2 (upgrade.hpp)

    // master_plugins.cpp
    void reload();
    void publish(const Manifest &m);
    bool all_applied(std::uint64_t generation) const;
    void run_command();
    CommandResult rollback(const std::string &name);

    // master_shadow.cpp
    CommandResult shadow_start(const std::string &name, const std::string &path);
    CommandResult shadow_stop(const std::string &name);
    CommandResult promote(const std::string &name);
    void spawn_shadow();
    void stop_shadow(bool keep_copy = false);
    bool reap_shadow(pid_t pid, int status);
    void respawn_shadow_due();
    void write_shadow_control(const char *state, const std::string &error);

    const Config &config_;
    SharedState &shared_;
    Generations &generations_;
    const int listen_fd_;
    Metrics &metrics_;  ///< shared memory: made before the first fork, summed over all workers
    std::vector<Child> children_;
    bool ever_ready_ = false;
    std::uint64_t deaths_ = 0;        ///< workers reaped so far
    std::string last_death_;          ///< how the last one ended
    std::uint64_t last_command_ = 0;  ///< ticket of the last command run
    ManifestEntry shadow_{};          ///< the shadow's candidate (serial 0: none)
    pid_t shadow_pid_ = 0;
    Clock::time_point shadow_started_{}, shadow_respawn_at_{};
    std::chrono::milliseconds shadow_backoff_{0};
    Notifier systemd_;         ///< sd_notify: readiness, reload, watchdog
    upgrade::OldWorkers old_;  ///< the previous image's workers, after an upgrade
};

}  // namespace shopd::host
