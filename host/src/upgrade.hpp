// Binary upgrade in place (SIGUSR2, `shopctl upgrade`): the master checks the executable file it
// was started from (now perhaps a new build) with --check-config, then re-executes it keeping
// its PID, the listening socket (as LISTEN_FDS=1) and its worker processes (as children still).
// The new image starts its own workers; once they are all ready it drains the old ones (SIGUSR2,
// SIGKILL after 10 s) and removes their plugin generation directory. Nothing stops accepting in
// between: the socket stays open and the old workers serve until the new ones do.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace shopd::host::upgrade {

/// main(), first thing: the executable's path (/proc/self/exe) and the arguments to re-run.
void remember(int argc, char **argv);

/// Runs `<exe> --check-config <same args>`; if it passes, re-executes in place with
/// `listen_fd`, the old `workers` and their `generation_dir`. Returns only when the upgrade was
/// refused or failed (the reason is logged); the caller keeps serving.
void exec_new(int listen_fd, const std::vector<pid_t> &workers, const std::string &generation_dir);

/// In the new image: the old workers handed over by exec_new (from the environment, once).
class OldWorkers {
public:
    OldWorkers();
    bool pending() const { return !pids_.empty(); }
    /// Every master tick: once `ready` (the new workers serve), SIGUSR2 (a gentle drain) to the old
    /// ones; SIGKILL to those left after 10 s; when all are gone (reaped by the master), removes
    /// their dir.
    void tick(bool ready);

private:
    std::vector<pid_t> pids_;
    std::string dir_;
    bool signalled_ = false;
    std::chrono::steady_clock::time_point deadline_{};
};

}  // namespace shopd::host::upgrade

/// A worker's kept-alive connections from nginx while they sit parked in the epoll set, so that
/// a draining worker (upgrade, stop, recycling) closes them while idle instead of at
/// exit: a connection closed with a request already in it fails that request (nginx does not
/// retry a POST it sent), one closed while idle is just dropped from nginx's cache.
namespace shopd::host::drain {

/// park(): `fd` waits in the epoll set for its next request.
void parked(int fd);
/// A thread got `fd` from epoll: true if it is now the thread's, false if close_idle() took it.
bool taken(int fd);
/// While draining: closes the parked connections with nothing to read; in a gentle drain only
/// those nginx stopped reusing (idle 250 ms; after 5 s, every idle one). Returns how many are
/// still parked (in use, or a request is arriving on them: a thread will answer it).
std::size_t close_idle();
/// A gentle drain (SIGUSR2 to a worker: an upgrade replaces it, zero failed requests wanted):
/// connections stay kept-alive until idle. Else (SIGTERM, recycling) each closes after its
/// next answer, so the worker is gone sooner.
void set_gentle();
bool gentle();

}  // namespace shopd::host::drain
